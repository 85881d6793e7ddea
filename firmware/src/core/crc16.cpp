#include "crc16.h"

namespace shelfsense {

// Byte-wise form of the 0x1021 polynomial: no 512-byte table, which an ATmega328P would have to
// keep in its 2 KB of RAM, and about a tenth of the work of the bit-by-bit loop.
uint16_t crc16Update(uint16_t crc, uint8_t byte) {
  uint8_t x = static_cast<uint8_t>((crc >> 8) ^ byte);
  x = static_cast<uint8_t>(x ^ (x >> 4));
  return static_cast<uint16_t>((crc << 8) ^ (static_cast<uint16_t>(x) << 12) ^
                               (static_cast<uint16_t>(x) << 5) ^ x);
}

uint16_t crc16(const char* data, size_t length) {
  uint16_t crc = kCrc16Init;
  for (size_t i = 0; i < length; ++i) crc = crc16Update(crc, static_cast<uint8_t>(data[i]));
  return crc;
}

}  // namespace shelfsense
