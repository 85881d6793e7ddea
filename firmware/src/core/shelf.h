// One shelf: the whole firmware behaviour over the HAL. A sketch calls begin() once and poll()
// from its loop; nothing here blocks for longer than one HX711 read (~0.3 ms on an AVR).
//
// With a thermometer, each reading (one a second) rides on the next sample frame as its `T` field.
//
// Output order: at most one reply is outstanding. It goes out ahead of any sample; while it waits
// for room in the transmit buffer no further command bytes are read (they wait in the UART's
// buffer) and sample frames are dropped. A frame is written whole or dropped whole.
#ifndef SHELFSENSE_CORE_SHELF_H
#define SHELFSENSE_CORE_SHELF_H

#include <stddef.h>
#include <stdint.h>

#include "hal.h"
#include "line_receiver.h"
#include "protocol.h"
#include "sampler.h"
#include "serial_store.h"

namespace shelfsense {

struct ShelfSettings {
  const char* firmware;  // `[A-Za-z0-9.+_-]{1,24}`, checked at build time
  uint8_t channels;      // 1..8
  uint8_t defaultRate;   // 10 or 80
};

class Shelf {
 public:
  // `thermometer` may be null: the shelf then sends v1 frames, without a temperature.
  Shelf(Board& board, Sensor& sensor, ByteEeprom& eeprom, const ShelfSettings& settings,
        Thermometer* thermometer = nullptr);

  // Boot: HX711 reset, RATE pin, the serial number (made and stored on first boot), then the
  // identity line once, ahead of the first sample.
  void begin();

  // One pass of the main loop.
  void poll();

 private:
  void makeSerial();
  void readCommands();
  void answer();
  bool flushReply();
  void send(const Frame& frame);
  void readThermometer(uint32_t now);

  Board& board_;
  Sensor& sensor_;
  Thermometer* thermometer_;
  uint32_t nextTempMs_;
  int16_t pendingTemp_;  // a reading not sent yet, or kNoTemperature
  SerialStore store_;
  Sampler sampler_;
  LineReceiver receiver_;
  const char* firmware_;
  uint8_t channels_;
  size_t replyLength_;  // bytes of reply_ still to be sent; 0 when there is none
  char reply_[kMaxReplyLine];
  char line_[kMaxSampleLine];
  Frame frame_;
};

}  // namespace shelfsense

#endif
