// What the portable core needs from a board. Each HAL (src/hal/<arch>/) implements these once;
// host tests implement them with fakes. Calls are per line or per conversion, never per bit: the
// bit-level HX711 pins are a template parameter of Hx711Bus (hx711.h) so they inline.
#ifndef SHELFSENSE_CORE_HAL_H
#define SHELFSENSE_CORE_HAL_H

#include <stddef.h>
#include <stdint.h>

namespace shelfsense {

// The MCU around the core: clock, watchdog, the UART to the host, sources of a serial number.
class Board {
 public:
  virtual uint32_t millis() = 0;
  // The watchdog hook: called once per loop; a loop that hangs stops calling it and the
  // watchdog reboots the shelf.
  virtual void kickWatchdog() = 0;
  // One received byte, or -1 when none is waiting.
  virtual int readByte() = 0;
  // Bytes the transmit buffer takes right now without blocking.
  virtual size_t writable() = 0;
  virtual void write(const char* data, size_t length) = 0;
  // 32 bits of noise (timer jitter, floating ADC inputs) for a serial number.
  virtual uint32_t entropy() = 0;
  // The chip's factory-unique id (RP2040 flash id, ESP32 eFuse MAC) into `out`; its length in
  // bytes, or 0 for a chip without one.
  virtual size_t uniqueId(uint8_t* out, size_t capacity) = 0;

 protected:
  ~Board() = default;  // trivial: static boards need no atexit registration
};

// A byte-addressed EEPROM whose writes take milliseconds (3.4 ms per byte on an AVR).
class ByteEeprom {
 public:
  virtual uint8_t read(uint16_t address) = 0;
  // True when a write may start now without waiting for the previous one.
  virtual bool ready() = 0;
  // Starts writing one byte.
  virtual void write(uint16_t address, uint8_t value) = 0;
  // Flash-emulated EEPROMs (RP2040, ESP32) program their page here; a no-op on AVR.
  virtual void commit() = 0;

 protected:
  ~ByteEeprom() = default;
};

// The load-cell amplifiers, one channel per chip, all converting together.
class Sensor {
 public:
  // Power-cycles every chip; they restart at channel A, gain 128.
  virtual void reset() = 0;
  // Drives the shared RATE pin: 80 or 10 samples per second.
  virtual void setRate(uint8_t samplesPerSecond) = 0;
  // Bit c set when channel c has a conversion ready.
  virtual uint8_t readyMask() = 0;
  // Clocks one conversion out of every channel at once into raw[0..channels-1].
  virtual void read(int32_t* raw) = 0;

 protected:
  ~Sensor() = default;
};

// The shelf's thermometer (protocol v1.1): a DS18B20 on the shelf or the MCU's own sensor. A board
// without one passes none to Shelf, and its frames carry no temperature.
class Thermometer {
 public:
  // Called once per kTempPeriodMs. The newest reading in hundredths of a °C, or kNoTemperature
  // (protocol.h) when there is none: no sensor answering, a failed read, no conversion finished
  // yet. Must not block for longer than an HX711 read (~0.3 ms): a slow sensor starts its next
  // conversion here and returns the previous one.
  virtual int16_t readCentiC() = 0;

 protected:
  ~Thermometer() = default;
};

}  // namespace shelfsense

#endif
