// The sample scheduler: decides when the chips' conversions are read and which become frames.
//
// - A frame is read when every channel is ready (DOUT low); deviceMs is the time it was found so.
// - Conversions during the HX711's settling time after a reset or a RATE change (400 ms at
//   10 SPS, 50 ms at 80 SPS: the first 3) are read and discarded without consuming a seq.
// - A channel not ready within 3 conversion periods of the last read, while others are, is dead:
//   the frame goes out with it as 8388607, and later frames no longer wait for it; it rejoins
//   the first frame at which it is ready again. With no channel ready nothing is sent.
// - seq starts at 0, +1 per frame meant to be sent (the caller may still drop it: the host sees
//   a gap), wraps 4294967295 → 0, and continues across RATE changes.
#ifndef SHELFSENSE_CORE_SAMPLER_H
#define SHELFSENSE_CORE_SAMPLER_H

#include <stdint.h>

#include "hal.h"
#include "protocol.h"

namespace shelfsense {

struct Frame {
  uint32_t seq;
  uint32_t deviceMs;
  int32_t raw[kMaxChannels];
};

class Sampler {
 public:
  Sampler(Sensor& sensor, uint8_t channels, uint8_t rate);

  // Resets the chips, then drives the RATE pin; settling starts at nowMs.
  void begin(uint32_t nowMs);

  // Switches the RATE pin and starts settling; the current rate changes nothing.
  void setRate(uint8_t rate, uint32_t nowMs);
  uint8_t rate() const { return rate_; }

  // Reads the chips when a conversion is due. True when `frame` holds a frame to send.
  bool poll(uint32_t nowMs, Frame& frame);

  // Channels currently sent as 8388607.
  uint8_t deadMask() const { return dead_; }

 private:
  void startSettling(uint32_t nowMs);

  Sensor& sensor_;
  uint8_t all_;
  uint8_t rate_;
  uint8_t dead_;
  bool settling_;  // a flag, not just a timestamp, so millis() wrapping after 49.7 days is harmless
  uint32_t settleStartMs_;
  uint32_t lastReadMs_;
  uint32_t seq_;
};

}  // namespace shelfsense

#endif
