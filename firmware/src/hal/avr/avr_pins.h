// HX711 pins on an AVR through the port registers, resolved once from the Arduino pin numbers:
// digitalWrite() looks its pin up in flash tables on every call (~4 µs), which with 25 pulses
// and up to 8 DOUTs per conversion would keep SCK high far longer than the chips need.
#ifndef SHELFSENSE_HAL_AVR_PINS_H
#define SHELFSENSE_HAL_AVR_PINS_H

#include <Arduino.h>

#include "../../core/protocol.h"

namespace shelfsense {

class AvrPins {
 public:
  // Interrupts off for its lifetime; restores the previous state, so it nests.
  class IrqLock {
   public:
    explicit IrqLock(AvrPins&) : sreg_(SREG) { cli(); }
    ~IrqLock() { SREG = sreg_; }

   private:
    uint8_t sreg_;
  };

  // SCK low (chips powered up), RATE at `rateHigh`, DOUTs as inputs without pull-ups (the
  // HX711 drives DOUT; a disconnected board's DOUT is pulled high by the module's resistor).
  void begin(uint8_t sck, uint8_t rate, bool rateHigh, const uint8_t* dout, uint8_t channels) {
    pinMode(sck, OUTPUT);
    digitalWrite(sck, LOW);
    pinMode(rate, OUTPUT);
    digitalWrite(rate, rateHigh ? HIGH : LOW);
    sckOut_ = portOutputRegister(digitalPinToPort(sck));
    sckMask_ = digitalPinToBitMask(sck);
    rateOut_ = portOutputRegister(digitalPinToPort(rate));
    rateMask_ = digitalPinToBitMask(rate);
    channels_ = channels;
    for (uint8_t c = 0; c < channels; ++c) {
      pinMode(dout[c], INPUT);
      doutIn_[c] = portInputRegister(digitalPinToPort(dout[c]));
      doutMask_[c] = digitalPinToBitMask(dout[c]);
    }
  }

  // Read-modify-write of the port: no ISR of ours or of the Arduino core writes these ports.
  void sckHigh() { *sckOut_ |= sckMask_; }
  void sckLow() { *sckOut_ &= static_cast<uint8_t>(~sckMask_); }

  void rateWrite(bool high) {
    if (high) {
      *rateOut_ |= rateMask_;
    } else {
      *rateOut_ &= static_cast<uint8_t>(~rateMask_);
    }
  }

  uint8_t dout() const {
    uint8_t level = 0;
    uint8_t bit = 1;
    for (uint8_t c = 0; c < channels_; ++c, bit = static_cast<uint8_t>(bit << 1)) {
      if (*doutIn_[c] & doutMask_[c]) level |= bit;
    }
    return level;
  }

  // delayMicroseconds(1) returns at once on a 16 MHz AVR (and vanishes when inlined), so the
  // clock's ~1 µs phases are counted in cycles.
  void delayUs(uint16_t us) {
    if (us == 1) {
      __builtin_avr_delay_cycles(F_CPU / 1000000UL);
    } else {
      delayMicroseconds(us);
    }
  }

 private:
  volatile uint8_t* sckOut_;
  volatile uint8_t* rateOut_;
  volatile uint8_t* doutIn_[kMaxChannels];
  uint8_t sckMask_;
  uint8_t rateMask_;
  uint8_t doutMask_[kMaxChannels];
  uint8_t channels_;
};

}  // namespace shelfsense

#endif
