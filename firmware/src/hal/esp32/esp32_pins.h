// HX711 pins on an ESP32 through the GPIO registers: W1TS/W1TC set and clear SCK in one write,
// GPIO_IN samples every DOUT (all on GPIO0–31) at once. Logic is 3.3 V: power the HX711 boards
// from 3.3 V, the ESP32's pins are not 5 V tolerant.
#ifndef SHELFSENSE_HAL_ESP32_PINS_H
#define SHELFSENSE_HAL_ESP32_PINS_H

#include <Arduino.h>
#include <soc/gpio_reg.h>
#include <soc/soc.h>

#include "../../core/protocol.h"

namespace shelfsense {

class Esp32Pins {
 public:
  // A critical section: interrupts off on this core (FreeRTOS's tick included) for its lifetime.
  class IrqLock {
   public:
    explicit IrqLock(Esp32Pins& pins) : pins_(pins) { portENTER_CRITICAL(&pins_.mux_); }
    ~IrqLock() { portEXIT_CRITICAL(&pins_.mux_); }

   private:
    Esp32Pins& pins_;
  };

  void begin(uint8_t sck, uint8_t rate, bool rateHigh, const uint8_t* dout, uint8_t channels) {
    sckMask_ = 1u << sck;
    rateMask_ = 1u << rate;
    pinMode(sck, OUTPUT);
    digitalWrite(sck, LOW);
    pinMode(rate, OUTPUT);
    digitalWrite(rate, rateHigh ? HIGH : LOW);
    channels_ = channels;
    for (uint8_t c = 0; c < channels; ++c) {
      pinMode(dout[c], INPUT);  // the HX711 module drives DOUT and pulls it up itself
      doutMask_[c] = 1u << dout[c];
    }
  }

  void sckHigh() { REG_WRITE(GPIO_OUT_W1TS_REG, sckMask_); }
  void sckLow() { REG_WRITE(GPIO_OUT_W1TC_REG, sckMask_); }
  void rateWrite(bool high) { REG_WRITE(high ? GPIO_OUT_W1TS_REG : GPIO_OUT_W1TC_REG, rateMask_); }

  uint8_t dout() const {
    const uint32_t in = REG_READ(GPIO_IN_REG);
    uint8_t level = 0;
    for (uint8_t c = 0; c < channels_; ++c) {
      if (in & doutMask_[c]) level = static_cast<uint8_t>(level | (1u << c));
    }
    return level;
  }

  void delayUs(uint16_t us) { delayMicroseconds(us); }

 private:
  portMUX_TYPE mux_ = portMUX_INITIALIZER_UNLOCKED;
  uint32_t sckMask_ = 0;
  uint32_t rateMask_ = 0;
  uint32_t doutMask_[kMaxChannels] = {};
  uint8_t channels_ = 0;
};

}  // namespace shelfsense

#endif
