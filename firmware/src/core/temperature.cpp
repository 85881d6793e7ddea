#include "temperature.h"

#include "protocol.h"

namespace shelfsense {

int16_t atmegaSensorCentiC(uint16_t adc) {
  // adc × 1100 mV / 1024 in hundredths of a mV, then (mV − 314) / 1.0615 mV/°C as a multiply by
  // 15435 / 2^14 (0.94208): shifts, not libgcc's 32-bit division, which would cost ~600 bytes.
  const int32_t centiMv = (static_cast<int32_t>(adc) * 110000L) >> 10;
  const int32_t centiC = 2500 + (((centiMv - 31400) * 15435L) >> 14);
  if (centiC < kTempCentiMin || centiC > kTempCentiMax) return kNoTemperature;
  return static_cast<int16_t>(centiC);
}

}  // namespace shelfsense
