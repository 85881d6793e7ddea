// Temperature readings for protocol v1.1's `T` field, portable so the host tests check them.
#ifndef SHELFSENSE_CORE_TEMPERATURE_H
#define SHELFSENSE_CORE_TEMPERATURE_H

#include <stdint.h>

namespace shelfsense {

// The ATmega328P's own sensor (ADC channel 8, 10 bits against the internal 1.1 V reference) in
// hundredths of a °C, by the datasheet's typical curve: 314 mV at 25 °C, 1.0615 mV/°C (242 mV at
// −45 °C, 380 mV at 85 °C). kNoTemperature for a reading outside −55 … 125 °C.
int16_t atmegaSensorCentiC(uint16_t adc);

}  // namespace shelfsense

#endif
