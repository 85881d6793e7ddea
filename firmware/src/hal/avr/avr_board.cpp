#if defined(ARDUINO_ARCH_AVR)

#include "avr_board.h"

#include <avr/eeprom.h>
#include <avr/wdt.h>

#include "../../core/protocol.h"
#include "../../core/temperature.h"

namespace shelfsense {

uint32_t AvrBoard::millis() { return ::millis(); }

void AvrBoard::kickWatchdog() { wdt_reset(); }

int AvrBoard::readByte() { return Serial.read(); }

size_t AvrBoard::writable() {
  const int room = Serial.availableForWrite();
  return room > 0 ? static_cast<size_t>(room) : 0;
}

void AvrBoard::write(const char* data, size_t length) {
  Serial.write(reinterpret_cast<const uint8_t*>(data), length);
}

uint32_t AvrBoard::entropy() {
  // The LSB of a floating analog input is noise; the core hashes what is gathered here with the
  // HX711's own noise. A0–A5 exist on every supported board and the shelf leaves them unused.
  static const uint8_t kInputs[] = {A0, A1, A2, A3, A4, A5};
  uint32_t noise = micros();
  for (uint8_t round = 0; round < 4; ++round) {
    for (uint8_t i = 0; i < sizeof kInputs; ++i) {
      noise = (noise << 1 | (noise >> 31)) ^ static_cast<uint32_t>(analogRead(kInputs[i]));
    }
  }
  // Timer 1 is free-running with the Arduino core's prescaler; its low bits at this moment carry
  // the jitter of everything above.
  return noise ^ (static_cast<uint32_t>(TCNT1) << 16) ^ micros();
}

uint8_t AvrEeprom::read(uint16_t address) {
  return eeprom_read_byte(reinterpret_cast<const uint8_t*>(address));
}

bool AvrEeprom::ready() { return eeprom_is_ready(); }

// eeprom_write_byte() only waits for a previous write; the core asks ready() first, so this
// starts the 3.4 ms write and returns at once.
void AvrEeprom::write(uint16_t address, uint8_t value) {
  eeprom_write_byte(reinterpret_cast<uint8_t*>(address), value);
}

#if defined(__AVR_ATmega328P__)

void Avr328pThermometer::begin() {
  ADMUX = _BV(REFS1) | _BV(REFS0) | _BV(MUX3);  // internal 1.1 V reference, channel 8
  ADCSRA |= _BV(ADEN);
  // The first conversion after a change of reference is inaccurate (datasheet): do it and drop it
  // (~0.2 ms at boot), then start the one the first readCentiC() returns.
  ADCSRA |= _BV(ADSC);
  while (ADCSRA & _BV(ADSC)) {
  }
  ADCSRA |= _BV(ADSC);
}

int16_t Avr328pThermometer::readCentiC() {
  // Started a second ago: done long since (13 ADC clocks at 125 kHz).
  if (ADCSRA & _BV(ADSC)) return kNoTemperature;
  const uint16_t adc = ADCW;
  ADCSRA |= _BV(ADSC);  // the next reading
  return atmegaSensorCentiC(adc);
}

#endif

}  // namespace shelfsense

#endif
