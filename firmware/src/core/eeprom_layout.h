// The serial-number record in EEPROM, at address 0. This file is the source of the layout;
// docs/firmware.md and the simulator's EEPROM image (firmware-sim/src/mcu.ts) follow it.
//
//   byte 0–1   magic 'S', 'N' (0x53, 0x4E)
//   byte 2     flags: bit 0 = locked (provisioned by SERIAL); other bits reserved, written 0
//   byte 3     length n of the serial, 1–32
//   byte 4–35  the serial's characters; bytes past n are 0xFF
//   byte 36    check = (sum of bytes 0..35) mod 256 XOR 0xA5
//
// Anything else, a blank (all 0xFF) EEPROM included, holds no serial.
#ifndef SHELFSENSE_CORE_EEPROM_LAYOUT_H
#define SHELFSENSE_CORE_EEPROM_LAYOUT_H

#include <stdint.h>

namespace shelfsense {
namespace eeprom_layout {

const uint16_t kBase = 0;
const uint8_t kMagicAt = 0;
const uint8_t kFlagsAt = 2;
const uint8_t kLengthAt = 3;
const uint8_t kSerialAt = 4;
const uint8_t kSerialCapacity = 32;
const uint8_t kCheckAt = 36;
const uint8_t kRecordSize = 37;

const uint8_t kMagic0 = 0x53;  // 'S'
const uint8_t kMagic1 = 0x4E;  // 'N'
const uint8_t kFlagLocked = 0x01;
const uint8_t kUnused = 0xFF;
const uint8_t kCheckXor = 0xA5;

// The check byte of a record's first 36 bytes.
inline uint8_t checkOf(const uint8_t* record) {
  uint8_t sum = 0;
  for (uint8_t i = 0; i < kCheckAt; ++i) sum = static_cast<uint8_t>(sum + record[i]);
  return static_cast<uint8_t>(sum ^ kCheckXor);
}

}  // namespace eeprom_layout
}  // namespace shelfsense

#endif
