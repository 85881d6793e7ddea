// Build-time settings, passed as -D flags by the Makefile and platformio.ini; an Arduino IDE or
// Arduino CLI build without flags gets the board's defaults below (docs/firmware.md, pin maps).
//
//   SHELF_CHANNELS          HX711 channels, one DOUT pin each (1–8)
//   SHELF_DEFAULT_RATE      samples per second at boot: 80 or 10
//   SHELF_FIRMWARE_VERSION  reported by ID, e.g. "1.0.0"
//   SHELF_PIN_SCK           the shared clock pin
//   SHELF_PIN_RATE          the shared RATE pin (HIGH = 80 SPS)
//   SHELF_PIN_DOUT          comma-separated DOUT pins, channel 0 first
//   SHELF_TEMPERATURE       1: send the MCU's own temperature (ATmega328P, the default there);
//                           0: no temperature (the default elsewhere)
#ifndef SHELFSENSE_HAL_SETTINGS_H
#define SHELFSENSE_HAL_SETTINGS_H

#include <stddef.h>
#include <stdint.h>

#include "../core/protocol.h"

#ifndef SHELF_FIRMWARE_VERSION
#define SHELF_FIRMWARE_VERSION "1.0.0"
#endif
#ifndef SHELF_DEFAULT_RATE
#define SHELF_DEFAULT_RATE 80
#endif
#ifndef SHELF_TEMPERATURE
#if defined(__AVR_ATmega328P__)
#define SHELF_TEMPERATURE 1
#else
#define SHELF_TEMPERATURE 0
#endif
#endif

#if defined(__AVR_ATmega2560__)
// Mega 2560: D22 = PA0, D23 = PA1, D24–D29 = PA2–PA7, D30 = PC7, D31 = PC6.
#ifndef SHELF_PIN_SCK
#define SHELF_PIN_SCK 22
#endif
#ifndef SHELF_PIN_RATE
#define SHELF_PIN_RATE 23
#endif
#ifndef SHELF_PIN_DOUT
#define SHELF_PIN_DOUT 24, 25, 26, 27, 28, 29, 30, 31
#endif
#ifndef SHELF_CHANNELS
#define SHELF_CHANNELS 8
#endif
#elif defined(__AVR_ATmega328P__)
// Uno / Nano: D2 = PD2, D3 = PD3, D4–D7 = PD4–PD7.
#ifndef SHELF_PIN_SCK
#define SHELF_PIN_SCK 2
#endif
#ifndef SHELF_PIN_RATE
#define SHELF_PIN_RATE 3
#endif
#ifndef SHELF_PIN_DOUT
#define SHELF_PIN_DOUT 4, 5, 6, 7
#endif
#ifndef SHELF_CHANNELS
#define SHELF_CHANNELS 4
#endif
#elif defined(ARDUINO_ARCH_RP2040)
// Raspberry Pi Pico: GP2 clock, GP3 rate, GP4–GP11 data (one SIO register read for all).
#ifndef SHELF_PIN_SCK
#define SHELF_PIN_SCK 2
#endif
#ifndef SHELF_PIN_RATE
#define SHELF_PIN_RATE 3
#endif
#ifndef SHELF_PIN_DOUT
#define SHELF_PIN_DOUT 4, 5, 6, 7, 8, 9, 10, 11
#endif
#ifndef SHELF_CHANNELS
#define SHELF_CHANNELS 8
#endif
#elif defined(ARDUINO_ARCH_ESP32)
// ESP32 DevKit: no strapping (0, 2, 5, 12, 15), flash (6–11) or UART0 (1, 3) pins; all < 32 so
// one GPIO.in read samples every DOUT.
#ifndef SHELF_PIN_SCK
#define SHELF_PIN_SCK 18
#endif
#ifndef SHELF_PIN_RATE
#define SHELF_PIN_RATE 19
#endif
#ifndef SHELF_PIN_DOUT
#define SHELF_PIN_DOUT 13, 14, 21, 22, 23, 25, 26, 27
#endif
#ifndef SHELF_CHANNELS
#define SHELF_CHANNELS 8
#endif
#else
#error "No default pin map for this board: pass SHELF_PIN_SCK, SHELF_PIN_RATE, SHELF_PIN_DOUT, SHELF_CHANNELS"
#endif

namespace shelfsense {
namespace settings {

const uint8_t kChannels = SHELF_CHANNELS;
const uint8_t kDefaultRate = SHELF_DEFAULT_RATE;
const uint8_t kPinSck = SHELF_PIN_SCK;
const uint8_t kPinRate = SHELF_PIN_RATE;
constexpr uint8_t kPinDout[] = {SHELF_PIN_DOUT};

// `[A-Za-z0-9.+_-]{1,24}` from index i on (C++11 constexpr: one return statement).
constexpr bool isFirmwareChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '+' || c == '_' || c == '-';
}
constexpr bool isFirmwareVersion(const char* s, size_t i) {
  return s[i] == '\0' ? i >= 1 && i <= kMaxFirmwareLength
                      : isFirmwareChar(s[i]) && isFirmwareVersion(s, i + 1);
}

static_assert(kChannels >= 1 && kChannels <= kMaxChannels, "SHELF_CHANNELS must be 1 to 8");
static_assert(kChannels <= sizeof(kPinDout), "SHELF_PIN_DOUT needs one pin per channel");
static_assert(kDefaultRate == kRateSlow || kDefaultRate == kRateFast, "SHELF_DEFAULT_RATE must be 10 or 80");
static_assert(isFirmwareVersion(SHELF_FIRMWARE_VERSION, 0),
              "SHELF_FIRMWARE_VERSION must be 1 to 24 of A-Z a-z 0-9 . + _ -");

}  // namespace settings
}  // namespace shelfsense

#endif
