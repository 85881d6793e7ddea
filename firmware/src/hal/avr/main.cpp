// The AVR sketch: setup() and loop() for the Arduino core's main(). Serial is UART0, the USB
// serial of the Uno, Nano and Mega, at 115200 8N1.
#if defined(ARDUINO_ARCH_AVR)

#include <Arduino.h>
#include <avr/wdt.h>

#include "../../core/hx711.h"
#include "../../core/shelf.h"
#include "../settings.h"
#include "avr_board.h"
#include "avr_pins.h"

// A frame is sent only if it fits whole in HardwareSerial's transmit buffer, so the buffer must
// hold the longest one; the default 64 bytes holds none at 4 channels. The Makefile and
// platformio.ini pass this to the Arduino core too (its buffer is a member of HardwareSerial).
static_assert(SERIAL_TX_BUFFER_SIZE - 1 >= shelfsense::sampleLineLength(SHELF_CHANNELS),
              "build with -DSERIAL_TX_BUFFER_SIZE=128 (Uno/Nano) or 256 (Mega) for the Arduino "
              "core and the sketch alike: see docs/firmware.md");
static_assert(SHELF_PIN_SCK < NUM_DIGITAL_PINS && SHELF_PIN_RATE < NUM_DIGITAL_PINS,
              "SHELF_PIN_SCK / SHELF_PIN_RATE is not a digital pin of this board");
static_assert(SHELF_PIN_SCK > 1 && SHELF_PIN_RATE > 1, "D0 and D1 are the USB serial");
#if SHELF_TEMPERATURE && !defined(__AVR_ATmega328P__)
#error "SHELF_TEMPERATURE=1 needs the ATmega328P's own sensor: this chip has none"
#endif

namespace {
// Every DOUT pin from `i` on is a digital pin other than D0/D1.
constexpr bool doutPinsValid(uint8_t i) {
  return i >= sizeof shelfsense::settings::kPinDout ||
         (shelfsense::settings::kPinDout[i] > 1 && shelfsense::settings::kPinDout[i] < NUM_DIGITAL_PINS &&
          doutPinsValid(static_cast<uint8_t>(i + 1)));
}
static_assert(doutPinsValid(0), "SHELF_PIN_DOUT: every pin must be a digital pin other than D0/D1");
}  // namespace

namespace shelfsense {

// Also what `avr-nm` and `strings` find in the ELF: the version the ID line reports.
extern const char kFirmwareVersion[] = SHELF_FIRMWARE_VERSION;

namespace {

AvrPins pins;
Hx711Bus<AvrPins> sensor(pins, settings::kChannels);
AvrBoard board;
AvrEeprom eeprom;
const ShelfSettings kShelfSettings = {kFirmwareVersion, settings::kChannels, settings::kDefaultRate};
#if SHELF_TEMPERATURE
Avr328pThermometer thermometer;
Shelf shelf(board, sensor, eeprom, kShelfSettings, &thermometer);
#else
Shelf shelf(board, sensor, eeprom, kShelfSettings);
#endif

}  // namespace
}  // namespace shelfsense

// After a watchdog reset the watchdog stays enabled with its shortest timeout (15 ms) and would
// reset the MCU again before setup() ran; avr-libc's recommended fix is to turn it off this
// early, in .init3, before the C runtime's constructors.
extern "C" void shelfsenseWatchdogOff(void) __attribute__((naked, used, section(".init3")));
extern "C" void shelfsenseWatchdogOff(void) {
  MCUSR = 0;
  wdt_disable();
}

void setup() {
  using namespace shelfsense;
  wdt_enable(WDTO_1S);
  Serial.begin(115200);
  pins.begin(settings::kPinSck, settings::kPinRate, settings::kDefaultRate == kRateFast,
             settings::kPinDout, settings::kChannels);
  shelf.begin();
#if SHELF_TEMPERATURE
  thermometer.begin();
#endif
}

void loop() { shelfsense::shelf.poll(); }

#endif
