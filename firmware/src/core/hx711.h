// HX711 driver for N chips on one shared SCK, one DOUT each, read in parallel.
//
// `Pins` is the board's bit-level access, inlined into the clock loop:
//   void sckHigh(); void sckLow(); void rateWrite(bool high);
//   uint8_t dout();            // bit c = level of channel c's DOUT (1 = high = busy)
//   void delayUs(uint16_t us);
//   class IrqLock { explicit IrqLock(Pins&); };   // interrupts off for its lifetime
#ifndef SHELFSENSE_CORE_HX711_H
#define SHELFSENSE_CORE_HX711_H

#include <stdint.h>

#include "hal.h"
#include "protocol.h"

namespace shelfsense {

// SCK high for 60 µs powers the chip down; low again resets it. 100 µs leaves margin.
const uint16_t kHx711ResetHighUs = 100;
const uint8_t kHx711DataBits = 24;

// 24-bit two's complement to int32: 0x800000 → -8388608, 0x7FFFFF → 8388607, 0xFFFFFF → -1.
inline int32_t signExtend24(uint32_t value) {
  return static_cast<int32_t>((value & 0xFFFFFFu) ^ 0x800000u) - static_cast<int32_t>(0x800000);
}

template <class Pins>
class Hx711Bus : public Sensor {
 public:
  Hx711Bus(Pins& pins, uint8_t channels)
      : pins_(pins),
        channels_(channels),
        mask_(static_cast<uint8_t>((1u << channels) - 1u)) {}

  void reset() override {
    pins_.sckHigh();
    pins_.delayUs(kHx711ResetHighUs);
    pins_.sckLow();
  }

  void setRate(uint8_t samplesPerSecond) override { pins_.rateWrite(samplesPerSecond == kRateFast); }

  // DOUT low means the chip has a conversion ready.
  uint8_t readyMask() override { return static_cast<uint8_t>(~pins_.dout() & mask_); }

  void read(int32_t* raw) override {
    uint32_t value[kMaxChannels];
    for (uint8_t c = 0; c < channels_; ++c) value[c] = 0;
    for (uint8_t bit = 0; bit < kHx711DataBits; ++bit) {  // MSB first
      const uint8_t level = pulse();
      uint8_t channelBit = 1;
      for (uint8_t c = 0; c < channels_; ++c) {
        value[c] <<= 1;
        if (level & channelBit) value[c] |= 1u;
        channelBit = static_cast<uint8_t>(channelBit << 1);
      }
    }
    pulse();  // the 25th pulse selects channel A, gain 128 for the next conversion
    for (uint8_t c = 0; c < channels_; ++c) raw[c] = signExtend24(value[c]);
  }

 private:
  // One clock pulse; returns every DOUT as sampled while SCK was high.
  uint8_t pulse() {
    uint8_t level;
    {
      // An interrupt landing while SCK is high could stretch it past 60 µs and power the chips
      // down mid-read, so the high phase runs with interrupts off (about 2 µs).
      typename Pins::IrqLock lock(pins_);
      pins_.sckHigh();
      pins_.delayUs(1);
      level = pins_.dout();
      pins_.sckLow();
    }
    pins_.delayUs(1);
    return level;
  }

  Pins& pins_;
  uint8_t channels_;
  uint8_t mask_;
};

}  // namespace shelfsense

#endif
