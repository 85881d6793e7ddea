#if defined(ARDUINO_ARCH_AVR)

#include "avr_board.h"

#include <avr/eeprom.h>
#include <avr/wdt.h>

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

}  // namespace shelfsense

#endif
