// The RP2040 sketch (Arduino-Pico core): setup() and loop(). Written against the core's API but
// not built here — no RP2040 toolchain or core is installed on the build machine; build it with
// PlatformIO (`pio run -e pico`) or Arduino CLI (docs/firmware.md).
#if defined(ARDUINO_ARCH_RP2040)

#include <Arduino.h>
#include <EEPROM.h>

#include "../../core/hx711.h"
#include "../../core/shelf.h"
#include "../settings.h"
#include "rp2040_board.h"
#include "rp2040_pins.h"

namespace {
// Every pin from `i` on is one of the RP2040's GPIO0–GPIO29, and not GP0/GP1 (UART0).
constexpr bool pinsValid(uint8_t i) {
  return i >= sizeof shelfsense::settings::kPinDout ||
         (shelfsense::settings::kPinDout[i] > 1 && shelfsense::settings::kPinDout[i] < 30 &&
          pinsValid(static_cast<uint8_t>(i + 1)));
}
static_assert(pinsValid(0) && SHELF_PIN_SCK > 1 && SHELF_PIN_SCK < 30 && SHELF_PIN_RATE > 1 &&
                  SHELF_PIN_RATE < 30,
              "RP2040 pins must be GP2 to GP29");
}  // namespace

namespace shelfsense {

extern const char kFirmwareVersion[] = SHELF_FIRMWARE_VERSION;

namespace {

Rp2040Pins pins;
Hx711Bus<Rp2040Pins> sensor(pins, settings::kChannels);
Rp2040Board board;
Rp2040Eeprom eeprom;
const ShelfSettings kShelfSettings = {kFirmwareVersion, settings::kChannels, settings::kDefaultRate};
Shelf shelf(board, sensor, eeprom, kShelfSettings);

}  // namespace
}  // namespace shelfsense

void setup() {
  using namespace shelfsense;
  rp2040.wdt_begin(1000);
  Serial.begin(115200);  // USB CDC: the baud rate is the host's business
  EEPROM.begin(Rp2040Eeprom::kSize);
  pins.begin(settings::kPinSck, settings::kPinRate, settings::kDefaultRate == kRateFast,
             settings::kPinDout, settings::kChannels);
  shelf.begin();
}

void loop() { shelfsense::shelf.poll(); }

#endif
