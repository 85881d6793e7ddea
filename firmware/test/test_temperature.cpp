#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>

#include "../src/core/protocol.h"
#include "../src/core/temperature.h"

using namespace shelfsense;

namespace {

// The 10-bit reading of `mv` millivolts against the 1.1 V reference.
uint16_t adcOf(double mv) { return static_cast<uint16_t>(std::lround(mv * 1024 / 1100)); }

}  // namespace

TEST_SUITE("temperature") {
  TEST_CASE("the ATmega328P sensor: the datasheet's typical points") {
    // A line through 25 °C with the end-to-end slope: within a degree there, within 2.5 at the
    // table's ends (the typical curve is not quite straight; the chip's own spread is ±10 °C).
    CHECK(std::abs(atmegaSensorCentiC(adcOf(314)) - 2500) <= 100);
    CHECK(std::abs(atmegaSensorCentiC(adcOf(242)) - (-4500)) <= 250);
    CHECK(std::abs(atmegaSensorCentiC(adcOf(380)) - 8500) <= 250);
  }

  TEST_CASE("the ATmega328P sensor: about a degree per LSB, rising, and none outside -55 ... 125") {
    int16_t last = kNoTemperature;
    int valid = 0;
    for (uint16_t adc = 0; adc < 1024; ++adc) {
      const int16_t t = atmegaSensorCentiC(adc);
      if (t == kNoTemperature) continue;
      CHECK(validTemperature(t));
      if (last != kNoTemperature) {
        CHECK(t - last >= 90);
        CHECK(t - last <= 110);
      }
      last = t;
      ++valid;
    }
    CHECK(valid > 150);
    CHECK(atmegaSensorCentiC(0) == kNoTemperature);
    CHECK(atmegaSensorCentiC(1023) == kNoTemperature);
  }
}
