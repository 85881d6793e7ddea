#include <doctest/doctest.h>

#include <vector>

#include "../src/core/hx711.h"
#include "fake_hx711_pins.h"

using namespace shelfsense;
using fakes::Hx711Pins;

namespace {

std::vector<int32_t> readAll(Hx711Pins& pins, Hx711Bus<Hx711Pins>& bus, const std::vector<uint32_t>& values) {
  pins.convert(values);
  std::vector<int32_t> raw(values.size());
  bus.read(raw.data());
  return raw;
}

}  // namespace

TEST_SUITE("hx711 driver") {
  TEST_CASE("24-bit two's complement is sign-extended: 0x800000, 0x7FFFFF, 0xFFFFFF, 0, 1") {
    CHECK(signExtend24(0x800000) == -8388608);
    CHECK(signExtend24(0x7FFFFF) == 8388607);
    CHECK(signExtend24(0xFFFFFF) == -1);
    CHECK(signExtend24(0x000000) == 0);
    CHECK(signExtend24(0x000001) == 1);
    CHECK(signExtend24(0xFFFFFE) == -2);
  }

  TEST_CASE("clocked out of the chips, MSB first, the codes read as their signed values") {
    Hx711Pins pins(5);
    Hx711Bus<Hx711Pins> bus(pins, 5);
    const std::vector<int32_t> raw = readAll(pins, bus, {0x800000, 0x7FFFFF, 0xFFFFFF, 0x000001, 0x123456});
    CHECK(raw == std::vector<int32_t>{-8388608, 8388607, -1, 1, 0x123456});
  }

  TEST_CASE("8 chips on one clock are read in parallel, each from its own DOUT") {
    Hx711Pins pins(8);
    Hx711Bus<Hx711Pins> bus(pins, 8);
    const std::vector<uint32_t> values = {0xA5A5A5, 0x5A5A5A, 0x000100, 0xFFFF00, 0x400000, 0x00FF00, 0x0F0F0F, 0xF0F0F0};
    const std::vector<int32_t> raw = readAll(pins, bus, values);
    for (size_t c = 0; c < values.size(); ++c) {
      CAPTURE(c);
      CHECK(raw[c] == signExtend24(values[c]));
    }
    CHECK(pins.highNs.size() == 25);  // one shared clock: 25 pulses in all, not 25 per chip
  }

  TEST_CASE("every read gives each chip exactly 25 pulses: channel A, gain 128 stays selected") {
    Hx711Pins pins(4);
    Hx711Bus<Hx711Pins> bus(pins, 4);
    for (int round = 0; round < 3; ++round) {
      readAll(pins, bus, {1, 2, 3, 4});
      for (const Hx711Pins::Chip& chip : pins.chips) {
        CHECK(chip.shifted == 25);
        CHECK(chip.dout);  // the 25th pulse leaves DOUT high until the next conversion
      }
    }
  }

  TEST_CASE("DOUT is sampled while SCK is high, once per pulse") {
    Hx711Pins pins(2);
    Hx711Bus<Hx711Pins> bus(pins, 2);
    readAll(pins, bus, {7, 9});
    CHECK(pins.samplesWhileHigh == 25);
  }

  TEST_CASE("SCK is never high with interrupts on during a read, so it never lasts 60 µs") {
    // The fake lets a 70 µs interrupt in whenever SCK is high with interrupts enabled.
    Hx711Pins pins(8);
    Hx711Bus<Hx711Pins> bus(pins, 8);
    for (int round = 0; round < 10; ++round) readAll(pins, bus, std::vector<uint32_t>(8, 0x55AA55));
    CHECK(pins.highWithInterruptsOn == 0);
    CHECK(pins.longestPulseNs() < 60000);
    CHECK(pins.longestPulseNs() < 5000);  // ~1 µs in fact
    CHECK(pins.powerDowns == 0);
    CHECK(pins.irqDepth == 0);  // interrupts restored after every pulse
  }

  TEST_CASE("reset holds SCK high at least 100 µs (power-down), then low (power-up)") {
    Hx711Pins pins(3);
    Hx711Bus<Hx711Pins> bus(pins, 3);
    pins.convert({1, 2, 3});
    bus.reset();
    REQUIRE(pins.highNs.size() == 1);
    CHECK(pins.highNs[0] >= 100000);
    CHECK(pins.powerDowns == 1);
    CHECK_FALSE(pins.sck);
    CHECK(bus.readyMask() == 0);  // the conversion in progress was abandoned
  }

  TEST_CASE("readyMask has a bit per channel whose DOUT is low, and none for dead chips") {
    Hx711Pins pins(4);
    Hx711Bus<Hx711Pins> bus(pins, 3);  // a fourth chip on the board is not a channel
    CHECK(bus.readyMask() == 0);
    pins.chips[1].dead = true;
    pins.convert({1, 2, 3, 4});
    CHECK(bus.readyMask() == 0x05);
  }

  TEST_CASE("a dead chip's pulled-up DOUT clocks out as all ones") {
    Hx711Pins pins(2);
    Hx711Bus<Hx711Pins> bus(pins, 2);
    pins.chips[0].dead = true;
    const std::vector<int32_t> raw = readAll(pins, bus, {5, 6});
    CHECK(raw[0] == -1);  // the sampler replaces this with 8388607
    CHECK(raw[1] == 6);
  }

  TEST_CASE("RATE pin: HIGH for 80 SPS, LOW for 10 SPS") {
    Hx711Pins pins(1);
    Hx711Bus<Hx711Pins> bus(pins, 1);
    bus.setRate(80);
    CHECK(pins.rateHigh);
    bus.setRate(10);
    CHECK_FALSE(pins.rateHigh);
    CHECK(pins.rateWrites == 2);
  }
}
