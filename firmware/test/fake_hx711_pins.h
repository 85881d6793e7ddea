// HX711 chips at the pin level, as Hx711Bus sees them through its Pins parameter, on a
// nanosecond clock:
// - DOUT low = a conversion is ready; each SCK rising edge shifts out the next bit, MSB first;
//   the 25th rising edge drives DOUT high and keeps channel A, gain 128 (26 or 27 pulses would
//   select another gain: `shifted` counts them).
// - SCK high for 60 µs or more powers the chips down; SCK low again resets them.
// - Every pin access costs 125 ns (two AVR cycles). While interrupts are enabled and SCK is high,
//   each access also lets a 70 µs interrupt run: a driver that keeps interrupts on during the
//   high phase stretches it past 60 µs, as a real UART or timer ISR could.
// - A dead chip's DOUT is pulled high forever.
#ifndef SHELFSENSE_TEST_FAKE_HX711_PINS_H
#define SHELFSENSE_TEST_FAKE_HX711_PINS_H

#include <cstdint>
#include <vector>

#include "../src/core/protocol.h"

namespace fakes {

class Hx711Pins {
 public:
  static const uint64_t kAccessNs = 125;
  static const uint64_t kInterruptNs = 70000;
  static const uint64_t kPowerDownNs = 60000;

  struct Chip {
    uint32_t value = 0;  // 24-bit conversion result
    bool ready = false;
    bool dead = false;
    int shifted = 0;     // SCK pulses since the conversion became ready
    bool dout = true;
  };

  class IrqLock {
   public:
    explicit IrqLock(Hx711Pins& pins) : pins_(pins) { ++pins_.irqDepth; }
    ~IrqLock() { --pins_.irqDepth; }

   private:
    Hx711Pins& pins_;
  };

  explicit Hx711Pins(uint8_t channels) : chips(channels) {}

  // Every chip completes a conversion holding `values[c]` and pulls its DOUT low.
  void convert(const std::vector<uint32_t>& values) {
    for (size_t c = 0; c < chips.size(); ++c) {
      Chip& chip = chips[c];
      chip.shifted = 0;
      if (chip.dead) continue;
      chip.value = values[c] & 0xFFFFFFu;
      chip.ready = true;
      chip.dout = false;
    }
  }

  void sckHigh() {
    access();
    if (sck) return;
    sck = true;
    highSinceNs = nowNs;
    if (irqDepth == 0) ++highWithInterruptsOn;
    for (Chip& chip : chips) {
      if (chip.dead) continue;
      if (chip.ready && chip.shifted < 24) {
        chip.dout = ((chip.value >> (23 - chip.shifted)) & 1u) != 0;
      } else {
        chip.dout = true;  // 25th pulse and beyond: busy until the next conversion
        chip.ready = false;
      }
      ++chip.shifted;
    }
  }

  void sckLow() {
    access();
    if (!sck) return;
    sck = false;
    const uint64_t high = nowNs - highSinceNs;
    highNs.push_back(high);
    if (high >= kPowerDownNs) {
      ++powerDowns;  // and SCK low again resets the chips: no conversion until the next one
      for (Chip& chip : chips) {
        chip.ready = false;
        chip.shifted = 0;
        chip.dout = true;
      }
    }
  }

  void rateWrite(bool high) {
    access();
    rateHigh = high;
    ++rateWrites;
  }

  uint8_t dout() {
    access();
    if (sck) ++samplesWhileHigh;
    uint8_t level = 0;
    for (size_t c = 0; c < chips.size(); ++c) {
      if (chips[c].dead || chips[c].dout) level = static_cast<uint8_t>(level | (1u << c));
    }
    return level;
  }

  void delayUs(uint16_t us) {
    access();
    nowNs += static_cast<uint64_t>(us) * 1000;
  }

  uint64_t longestPulseNs(size_t from = 0) const {
    uint64_t longest = 0;
    for (size_t i = from; i < highNs.size(); ++i) longest = highNs[i] > longest ? highNs[i] : longest;
    return longest;
  }

  std::vector<Chip> chips;
  std::vector<uint64_t> highNs;    // length of every SCK high phase
  uint64_t nowNs = 0;
  uint64_t highSinceNs = 0;
  bool sck = false;
  bool rateHigh = false;
  int irqDepth = 0;
  int highWithInterruptsOn = 0;
  int samplesWhileHigh = 0;
  int powerDowns = 0;
  int rateWrites = 0;

 private:
  void access() {
    nowNs += kAccessNs;
    if (sck && irqDepth == 0) nowNs += kInterruptNs;
  }
};

}  // namespace fakes

#endif
