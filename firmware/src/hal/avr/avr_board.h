// The core's Board and ByteEeprom on an ATmega328P / ATmega2560 with the Arduino AVR core.
#ifndef SHELFSENSE_HAL_AVR_BOARD_H
#define SHELFSENSE_HAL_AVR_BOARD_H

#include <Arduino.h>

#include "../../core/hal.h"

namespace shelfsense {

class AvrBoard : public Board {
 public:
  uint32_t millis() override;
  void kickWatchdog() override;
  int readByte() override;
  size_t writable() override;
  void write(const char* data, size_t length) override;
  uint32_t entropy() override;
  // The ATmega328P and ATmega2560 have no factory-unique id: serials come from entropy.
  size_t uniqueId(uint8_t*, size_t) override { return 0; }
};

class AvrEeprom : public ByteEeprom {
 public:
  uint8_t read(uint16_t address) override;
  bool ready() override;
  void write(uint16_t address, uint8_t value) override;
  void commit() override {}
};

#if defined(__AVR_ATmega328P__)
// The ATmega328P's own temperature sensor: ADC channel 8 against the internal 1.1 V reference.
// It measures the die, uncalibrated: ±10 °C by the datasheet, about 1 °C per LSB. The ATmega2560
// has none.
class Avr328pThermometer : public Thermometer {
 public:
  // After the serial number is made (its entropy reads A0–A5 with analogRead): from here on the
  // ADC stays on channel 8 with the 1.1 V reference, nothing else uses it.
  void begin();
  int16_t readCentiC() override;
};
#endif

}  // namespace shelfsense

#endif
