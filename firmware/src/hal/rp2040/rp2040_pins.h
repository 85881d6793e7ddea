// HX711 pins on an RP2040 through the SIO block: one register write sets or clears SCK, one
// register read samples every DOUT at the same instant. Logic is 3.3 V: power the HX711 boards
// from 3.3 V (their VCC and VDD), the RP2040's pins are not 5 V tolerant.
#ifndef SHELFSENSE_HAL_RP2040_PINS_H
#define SHELFSENSE_HAL_RP2040_PINS_H

#include <Arduino.h>
#include <hardware/gpio.h>
#include <hardware/structs/sio.h>
#include <hardware/sync.h>
#include <hardware/timer.h>

#include "../../core/protocol.h"

namespace shelfsense {

class Rp2040Pins {
 public:
  // Interrupts off on this core for its lifetime (the other core does not touch these pins).
  class IrqLock {
   public:
    explicit IrqLock(Rp2040Pins&) : state_(save_and_disable_interrupts()) {}
    ~IrqLock() { restore_interrupts(state_); }

   private:
    uint32_t state_;
  };

  void begin(uint8_t sck, uint8_t rate, bool rateHigh, const uint8_t* dout, uint8_t channels) {
    sckMask_ = 1u << sck;
    rateMask_ = 1u << rate;
    gpio_init(sck);
    gpio_set_dir(sck, GPIO_OUT);
    gpio_put(sck, false);
    gpio_init(rate);
    gpio_set_dir(rate, GPIO_OUT);
    gpio_put(rate, rateHigh);
    channels_ = channels;
    for (uint8_t c = 0; c < channels; ++c) {
      gpio_init(dout[c]);
      gpio_set_dir(dout[c], GPIO_IN);
      gpio_disable_pulls(dout[c]);  // the HX711 module drives DOUT and pulls it up itself
      doutMask_[c] = 1u << dout[c];
    }
  }

  void sckHigh() { sio_hw->gpio_set = sckMask_; }
  void sckLow() { sio_hw->gpio_clr = sckMask_; }
  void rateWrite(bool high) {
    if (high) {
      sio_hw->gpio_set = rateMask_;
    } else {
      sio_hw->gpio_clr = rateMask_;
    }
  }

  uint8_t dout() const {
    const uint32_t in = sio_hw->gpio_in;
    uint8_t level = 0;
    for (uint8_t c = 0; c < channels_; ++c) {
      if (in & doutMask_[c]) level = static_cast<uint8_t>(level | (1u << c));
    }
    return level;
  }

  void delayUs(uint16_t us) { busy_wait_us_32(us); }

 private:
  uint32_t sckMask_ = 0;
  uint32_t rateMask_ = 0;
  uint32_t doutMask_[kMaxChannels] = {};
  uint8_t channels_ = 0;
};

}  // namespace shelfsense

#endif
