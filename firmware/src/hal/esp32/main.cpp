// The ESP32 sketch (Arduino-ESP32 core): setup() and loop(). Written against the core's API but
// not built here — no Xtensa toolchain or ESP32 core is installed on the build machine; build it
// with PlatformIO (`pio run -e esp32dev`) or Arduino CLI (docs/firmware.md).
#if defined(ARDUINO_ARCH_ESP32)

#include <Arduino.h>
#include <EEPROM.h>

#include "../../core/hx711.h"
#include "../../core/shelf.h"
#include "../settings.h"
#include "esp32_board.h"
#include "esp32_pins.h"

namespace {
// GPIO_IN covers GPIO0–31 and 34–39 are inputs only: every pin must be below 32, an output for
// SCK and RATE, and none of the flash pins 6–11 or UART0's 1 and 3.
constexpr bool usable(uint8_t pin) { return pin < 32 && (pin < 6 || pin > 11) && pin != 1 && pin != 3; }
constexpr bool pinsValid(uint8_t i) {
  return i >= sizeof shelfsense::settings::kPinDout ||
         (usable(shelfsense::settings::kPinDout[i]) && pinsValid(static_cast<uint8_t>(i + 1)));
}
static_assert(pinsValid(0) && usable(SHELF_PIN_SCK) && usable(SHELF_PIN_RATE),
              "ESP32 pins must be GPIO0-31, not the flash pins 6-11 or UART0's 1 and 3");
}  // namespace

namespace shelfsense {

extern const char kFirmwareVersion[] = SHELF_FIRMWARE_VERSION;

namespace {

Esp32Pins pins;
Hx711Bus<Esp32Pins> sensor(pins, settings::kChannels);
Esp32Board board;
Esp32Eeprom eeprom;
const ShelfSettings kShelfSettings = {kFirmwareVersion, settings::kChannels, settings::kDefaultRate};
Shelf shelf(board, sensor, eeprom, kShelfSettings);

}  // namespace
}  // namespace shelfsense

void setup() {
  using namespace shelfsense;
  board.beginWatchdog();
  Serial.setTxBufferSize(256);  // before begin(): a whole frame must fit (availableForWrite)
  Serial.begin(115200);
  EEPROM.begin(Esp32Eeprom::kSize);
  pins.begin(settings::kPinSck, settings::kPinRate, settings::kDefaultRate == kRateFast,
             settings::kPinDout, settings::kChannels);
  shelf.begin();
}

void loop() { shelfsense::shelf.poll(); }

#endif
