// The core's Board and ByteEeprom on an ESP32 with the Arduino-ESP32 core.
#ifndef SHELFSENSE_HAL_ESP32_BOARD_H
#define SHELFSENSE_HAL_ESP32_BOARD_H

#include <Arduino.h>

#include "../../core/hal.h"

namespace shelfsense {

class Esp32Board : public Board {
 public:
  // Starts the task watchdog on the loop task: 1 s, then a panic and a reboot.
  void beginWatchdog();

  uint32_t millis() override;
  void kickWatchdog() override;
  int readByte() override;
  size_t writable() override;
  void write(const char* data, size_t length) override;
  uint32_t entropy() override;
  size_t uniqueId(uint8_t* out, size_t capacity) override;
};

// Arduino-ESP32's EEPROM is a RAM copy of an NVS blob: writes are instant, commit() stores it.
class Esp32Eeprom : public ByteEeprom {
 public:
  static const size_t kSize = 64;
  uint8_t read(uint16_t address) override;
  bool ready() override { return true; }
  void write(uint16_t address, uint8_t value) override;
  void commit() override;
};

}  // namespace shelfsense

#endif
