// Shelf serial protocol v1.1 as the firmware speaks it (docs/serial-protocol.md settles the
// details). Sizes here bound every fixed buffer in the core.
#ifndef SHELFSENSE_CORE_PROTOCOL_H
#define SHELFSENSE_CORE_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

namespace shelfsense {

const uint8_t kMaxChannels = 8;

// The 160-character limit counts the whole line including `*XXXX`, excluding the line ending.
const size_t kMaxLineLength = 160;
const size_t kSuffixLength = 5;  // "*XXXX"

const size_t kMaxSerialLength = 32;
const size_t kMaxFirmwareLength = 24;
const size_t kMaxTokenLength = 16;

// The HX711 RATE pin: HIGH = 80 samples per second, LOW = 10.
const uint8_t kRateSlow = 10;
const uint8_t kRateFast = 80;

// A channel whose chip stopped answering is sent as the saturation code, which the agent flags;
// the firmware never substitutes -1, so a -1 is always what a chip gave.
const int32_t kRawSaturated = 8388607;

// v1.1: the optional last field `,T<centi-°C>` of a sample, −55.00 … 125.00 °C (a DS18B20's range).
const int16_t kTempCentiMin = -5500;
const int16_t kTempCentiMax = 12500;
const int16_t kNoTemperature = -32767 - 1;  // INT16_MIN (avr-libc hides it from C++)
const size_t kTempFieldLength = 7;  // ",T-5500"
// The shelf reads its thermometer this often and sends each reading on the next frame.
const uint32_t kTempPeriodMs = 1000;

constexpr bool validTemperature(int16_t centiC) {
  return centiC >= kTempCentiMin && centiC <= kTempCentiMax;
}

// Longest sample line with its '\n': `S,<seq>,<ms>` then `,-8388608` per channel, then the
// temperature field, then `*XXXX`.
constexpr size_t sampleLineLength(uint8_t channels) {
  return 2 + 10 + 1 + 10 + 9 * static_cast<size_t>(channels) + kTempFieldLength + kSuffixLength + 1;
}
const size_t kMaxSampleLine = sampleLineLength(kMaxChannels);

// Longest reply with its '\n' is the identity: `ID,<serial>,<firmware>,<channels>,<rate>*XXXX`.
const size_t kMaxReplyLine = 3 + kMaxSerialLength + 1 + kMaxFirmwareLength + 1 + 1 + 1 + 2 +
                             kSuffixLength + 1;

static_assert(kMaxSampleLine <= kMaxLineLength + 1, "a full sample line must fit the limit");
static_assert(kMaxReplyLine <= kMaxLineLength + 1, "the identity line must fit the limit");

}  // namespace shelfsense

#endif
