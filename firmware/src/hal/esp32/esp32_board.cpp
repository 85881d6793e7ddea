#if defined(ARDUINO_ARCH_ESP32)

#include "esp32_board.h"

#include <EEPROM.h>
#include <esp_arduino_version.h>
#include <esp_task_wdt.h>

namespace shelfsense {

void Esp32Board::beginWatchdog() {
#if ESP_ARDUINO_VERSION_MAJOR >= 3
  // ESP-IDF 5: the core has already started the task watchdog (for the idle tasks); retune it.
  esp_task_wdt_config_t config = {};
  config.timeout_ms = 1000;
  config.idle_core_mask = 0;
  config.trigger_panic = true;
  if (esp_task_wdt_reconfigure(&config) != ESP_OK) esp_task_wdt_init(&config);
#else
  esp_task_wdt_init(1, true);
#endif
  esp_task_wdt_add(nullptr);  // this task: the one running loop()
}

uint32_t Esp32Board::millis() { return ::millis(); }

void Esp32Board::kickWatchdog() { esp_task_wdt_reset(); }

// Serial is UART0, behind the DevKit's USB-serial bridge.
int Esp32Board::readByte() { return Serial.read(); }

size_t Esp32Board::writable() {
  const int room = Serial.availableForWrite();
  return room > 0 ? static_cast<size_t>(room) : 0;
}

void Esp32Board::write(const char* data, size_t length) {
  Serial.write(reinterpret_cast<const uint8_t*>(data), length);
}

// Only asked for when uniqueId() has no answer, which on an ESP32 never happens.
uint32_t Esp32Board::entropy() { return esp_random(); }

// The factory MAC address burnt into eFuse: SS- and 12 hex digits, in the MAC's own byte order.
size_t Esp32Board::uniqueId(uint8_t* out, size_t capacity) {
  const uint64_t mac = ESP.getEfuseMac();  // byte 0 of the MAC in the low byte
  size_t n = 0;
  for (; n < 6 && n < capacity; ++n) out[n] = static_cast<uint8_t>(mac >> (8 * n));
  return n;
}

uint8_t Esp32Eeprom::read(uint16_t address) { return EEPROM.read(address); }

void Esp32Eeprom::write(uint16_t address, uint8_t value) { EEPROM.write(address, value); }

void Esp32Eeprom::commit() { EEPROM.commit(); }

}  // namespace shelfsense

#endif
