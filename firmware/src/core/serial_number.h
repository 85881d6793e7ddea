// Serial numbers a shelf makes for itself before a technician provisions one with SERIAL:
// `SS-` and the chip's unique id in hex where it has one (RP2040, ESP32), otherwise `SS-` and 8
// hex digits of entropy (AVR: timer/ADC noise and HX711 LSBs).
#ifndef SHELFSENSE_CORE_SERIAL_NUMBER_H
#define SHELFSENSE_CORE_SERIAL_NUMBER_H

#include <stddef.h>
#include <stdint.h>

namespace shelfsense {

const size_t kMaxUniqueIdBytes = 8;                                // 16 hex digits
const size_t kGeneratedSerialCapacity = 3 + 2 * kMaxUniqueIdBytes;  // "SS-" + hex

// Folds noisy words into 32 well-mixed bits: a few noisy low bits anywhere in the input spread
// over the whole result.
class EntropyPool {
 public:
  EntropyPool() : state_(0x811C9DC5u) {}
  void mix(uint32_t word);
  uint32_t value() const;

 private:
  uint32_t state_;
};

// `SS-XXXXXXXX`, upper-case hex; returns the length (11). `out` holds kGeneratedSerialCapacity.
size_t formatEntropySerial(uint32_t entropy, char* out);

// `SS-` and the first `length` bytes of `id` (at most kMaxUniqueIdBytes) in upper-case hex.
size_t formatUniqueIdSerial(const uint8_t* id, size_t length, char* out);

}  // namespace shelfsense

#endif
