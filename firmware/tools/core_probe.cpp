// Link check for `make arm-core`: the portable core wired to a stand-in board whose pins,
// UART and EEPROM are memory-mapped registers, linked with -nostdlib and libgcc only. If the core
// needed anything from a C or C++ library (memcpy, operator new, printf, exceptions), the link
// would fail. It is never run; the register addresses are the RP2040's SIO block for realism.
#include <stddef.h>
#include <stdint.h>

#include "../src/core/hx711.h"
#include "../src/core/shelf.h"

namespace {

volatile uint32_t& reg(uintptr_t address) { return *reinterpret_cast<volatile uint32_t*>(address); }

const uintptr_t kGpioIn = 0xD0000004;
const uintptr_t kGpioSet = 0xD0000014;
const uintptr_t kGpioClear = 0xD0000018;
const uintptr_t kMillis = 0x40054028;  // TIMER: TIMERAWL (µs)
const uintptr_t kUart = 0x40034000;    // UART0 data register
const uint32_t kSck = 1u << 2;
const uint32_t kRate = 1u << 3;
const unsigned kDoutShift = 4;

class ProbePins {
 public:
  class IrqLock {
   public:
    explicit IrqLock(ProbePins&) { __asm__ volatile("cpsid i" ::: "memory"); }
    ~IrqLock() { __asm__ volatile("cpsie i" ::: "memory"); }
  };
  void sckHigh() { reg(kGpioSet) = kSck; }
  void sckLow() { reg(kGpioClear) = kSck; }
  void rateWrite(bool high) { reg(high ? kGpioSet : kGpioClear) = kRate; }
  uint8_t dout() { return static_cast<uint8_t>(reg(kGpioIn) >> kDoutShift); }
  void delayUs(uint16_t us) {
    const uint32_t start = reg(kMillis);
    while (reg(kMillis) - start < us) {
    }
  }
};

class ProbeBoard : public shelfsense::Board {
 public:
  uint32_t millis() override { return reg(kMillis) / 1000; }
  void kickWatchdog() override {}
  int readByte() override { return static_cast<int>(reg(kUart) & 0xFF); }
  size_t writable() override { return 32; }
  void write(const char* data, size_t length) override {
    for (size_t i = 0; i < length; ++i) reg(kUart) = static_cast<uint8_t>(data[i]);
  }
  uint32_t entropy() override { return reg(kMillis); }
  size_t uniqueId(uint8_t*, size_t) override { return 0; }
};

class ProbeEeprom : public shelfsense::ByteEeprom {
 public:
  uint8_t read(uint16_t address) override { return bytes_[address % sizeof bytes_]; }
  bool ready() override { return true; }
  void write(uint16_t address, uint8_t value) override { bytes_[address % sizeof bytes_] = value; }
  void commit() override {}

 private:
  uint8_t bytes_[64];
};

}  // namespace

// The entry point the link keeps (-e): what a board's main() would do.
extern "C" void shelfsenseCoreProbe() {
  static ProbePins pins;
  static shelfsense::Hx711Bus<ProbePins> sensor(pins, 8);
  static ProbeBoard board;
  static ProbeEeprom eeprom;
  static const shelfsense::ShelfSettings settings = {"1.0.0", 8, 80};
  static shelfsense::Shelf shelf(board, sensor, eeprom, settings);
  shelf.begin();
  for (;;) shelf.poll();
}
