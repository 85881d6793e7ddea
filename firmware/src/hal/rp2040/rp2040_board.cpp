#if defined(ARDUINO_ARCH_RP2040)

#include "rp2040_board.h"

#include <EEPROM.h>
#include <pico/unique_id.h>

namespace shelfsense {

uint32_t Rp2040Board::millis() { return ::millis(); }

void Rp2040Board::kickWatchdog() { rp2040.wdt_reset(); }

// Serial is the USB CDC port: the Pico's "USB serial" the agent opens.
int Rp2040Board::readByte() { return Serial.read(); }

size_t Rp2040Board::writable() {
  const int room = Serial.availableForWrite();
  return room > 0 ? static_cast<size_t>(room) : 0;
}

void Rp2040Board::write(const char* data, size_t length) {
  Serial.write(reinterpret_cast<const uint8_t*>(data), length);
}

// Only asked for when uniqueId() has no answer, which on an RP2040 never happens.
uint32_t Rp2040Board::entropy() { return micros(); }

// The 64-bit unique id of the board's QSPI flash chip: SS- and 16 hex digits.
size_t Rp2040Board::uniqueId(uint8_t* out, size_t capacity) {
  pico_unique_board_id_t id;
  pico_get_unique_board_id(&id);
  size_t n = 0;
  for (; n < PICO_UNIQUE_BOARD_ID_SIZE_BYTES && n < capacity; ++n) out[n] = id.id[n];
  return n;
}

uint8_t Rp2040Eeprom::read(uint16_t address) { return EEPROM.read(address); }

void Rp2040Eeprom::write(uint16_t address, uint8_t value) { EEPROM.write(address, value); }

void Rp2040Eeprom::commit() { EEPROM.commit(); }

}  // namespace shelfsense

#endif
