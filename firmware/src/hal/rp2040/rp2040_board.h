// The core's Board and ByteEeprom on an RP2040 with the Arduino-Pico core (earlephilhower).
#ifndef SHELFSENSE_HAL_RP2040_BOARD_H
#define SHELFSENSE_HAL_RP2040_BOARD_H

#include <Arduino.h>

#include "../../core/hal.h"

namespace shelfsense {

class Rp2040Board : public Board {
 public:
  uint32_t millis() override;
  void kickWatchdog() override;
  int readByte() override;
  size_t writable() override;
  void write(const char* data, size_t length) override;
  uint32_t entropy() override;
  size_t uniqueId(uint8_t* out, size_t capacity) override;
};

// Arduino-Pico's EEPROM is a RAM copy of a flash sector: writes are instant, commit() programs
// the sector (tens of milliseconds with both cores paused; once per provisioning).
class Rp2040Eeprom : public ByteEeprom {
 public:
  static const size_t kSize = 256;
  uint8_t read(uint16_t address) override;
  bool ready() override { return true; }
  void write(uint16_t address, uint8_t value) override;
  void commit() override;
};

}  // namespace shelfsense

#endif
