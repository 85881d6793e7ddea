// Host fakes of the HAL: a clock the test moves, a UART that drains at 115200 8N1, an EEPROM
// whose writes take time, and HX711 chips at the conversion level.
#ifndef SHELFSENSE_TEST_FAKES_H
#define SHELFSENSE_TEST_FAKES_H

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <vector>

#include "../src/core/eeprom_layout.h"
#include "../src/core/hal.h"
#include "../src/core/protocol.h"

namespace fakes {

using shelfsense::kMaxChannels;

struct Clock {
  uint64_t us = 0;
  uint32_t ms() const { return static_cast<uint32_t>(us / 1000); }
};

// The MCU: millis() from the clock, a UART whose transmit buffer empties at 11.52 bytes/ms.
class Board : public shelfsense::Board {
 public:
  explicit Board(Clock& clock, size_t txBuffer = 256) : clock_(clock), txBuffer_(txBuffer) {}

  uint32_t millis() override {
    clock_.us += usPerMillisCall;
    return clock_.ms();
  }
  void kickWatchdog() override { ++kicks; }
  int readByte() override {
    if (rx.empty()) return -1;
    const int b = static_cast<uint8_t>(rx.front());
    rx.pop_front();
    return b;
  }
  size_t writable() override {
    drain();
    return txBuffer_ - 1 - queued_;
  }
  void write(const char* data, size_t length) override {
    // A real HardwareSerial would block here until the bytes fit: the firmware must never ask.
    if (length > writable()) ++blockingWrites;
    for (size_t i = 0; i < length; ++i) {
      ++queued_;
      // When the '\n' will have left the UART, at 11.52 bytes per millisecond.
      if (data[i] == '\n') lineDoneUs.push_back(clock_.us + queued_ * 1000000 / 11520);
    }
    sent.append(data, length);
  }
  uint32_t entropy() override { return entropyWord; }
  size_t uniqueId(uint8_t* out, size_t capacity) override {
    const size_t n = id.size() < capacity ? id.size() : capacity;
    for (size_t i = 0; i < n; ++i) out[i] = id[i];
    return n;
  }

  void send(const std::string& bytes) { rx.insert(rx.end(), bytes.begin(), bytes.end()); }
  // Stops (or restarts) the UART from emptying its buffer: a full transmit buffer on demand.
  void stallTx(bool stalled) {
    drain();
    stalled_ = stalled;
  }

  std::deque<char> rx;
  std::string sent;
  std::vector<uint64_t> lineDoneUs;  // when each sent line's last byte leaves the UART
  int kicks = 0;
  int blockingWrites = 0;
  uint32_t entropyWord = 0x12345678;
  std::vector<uint8_t> id;
  uint32_t usPerMillisCall = 0;  // lets a busy-wait on millis() make progress

 private:
  void drain() {
    if (stalled_ || queued_ == 0) {
      drainedAtUs_ = clock_.us;
      return;
    }
    // 115200 baud, 10 bits per byte: 11.52 bytes per millisecond.
    const uint64_t bytes = (clock_.us - drainedAtUs_) * 11520 / 1000000;
    if (bytes >= queued_) {
      queued_ = 0;
      drainedAtUs_ = clock_.us;
    } else if (bytes > 0) {
      queued_ -= static_cast<size_t>(bytes);
      drainedAtUs_ += bytes * 1000000 / 11520;
    }
  }

  Clock& clock_;
  size_t txBuffer_;
  size_t queued_ = 0;
  uint64_t drainedAtUs_ = 0;
  bool stalled_ = false;
};

// An EEPROM whose byte writes take `writeUs` of the clock, as an AVR's take 3.4 ms.
class Eeprom : public shelfsense::ByteEeprom {
 public:
  explicit Eeprom(Clock& clock, size_t size = 1024) : bytes(size, 0xFF), clock_(clock) {}

  uint8_t read(uint16_t address) override {
    if (!ready()) ++readsWhileBusy;
    return bytes.at(address);
  }
  bool ready() override { return clock_.us >= busyUntilUs_; }
  void write(uint16_t address, uint8_t value) override {
    if (!ready()) ++writesWhileBusy;
    bytes.at(address) = value;
    busyUntilUs_ = clock_.us + writeUs;
    ++writes;
    writeLog.push_back(address);
  }
  void commit() override { ++commits; }

  void putRecord(const uint8_t* record) {
    for (uint8_t i = 0; i < shelfsense::eeprom_layout::kRecordSize; ++i) bytes[i] = record[i];
  }

  std::vector<uint8_t> bytes;
  std::vector<uint16_t> writeLog;
  uint64_t writeUs = 3400;
  int writes = 0;
  int commits = 0;
  int readsWhileBusy = 0;
  int writesWhileBusy = 0;

 private:
  Clock& clock_;
  uint64_t busyUntilUs_ = 0;
};

// HX711 chips at the conversion level: each completes a conversion every period (12.5 ms at
// 80 SPS, 100 ms at 10 SPS), the first one period after a reset or a RATE change, optionally
// offset per chip; a dead chip never gets ready and clocks out all ones.
class Sensor : public shelfsense::Sensor {
 public:
  Sensor(Clock& clock, uint8_t channels) : clock_(clock), channels_(channels) {}

  void reset() override {
    ++resets;
    calls.push_back("reset");
    restart();
  }
  void setRate(uint8_t sps) override {
    rates.push_back(sps);
    calls.push_back(sps == shelfsense::kRateFast ? "rate 80" : "rate 10");
    periodUs_ = sps == shelfsense::kRateFast ? 12500 : 100000;
    restart();
  }
  uint8_t readyMask() override {
    uint8_t mask = 0;
    for (uint8_t c = 0; c < channels_; ++c) {
      if (!dead[c] && completed(c) > consumed_[c]) mask = static_cast<uint8_t>(mask | (1u << c));
    }
    return mask;
  }
  void read(int32_t* raw) override {
    ++reads;
    for (uint8_t c = 0; c < channels_; ++c) {
      const uint64_t done = completed(c);
      if (!dead[c] && done > consumed_[c]) {
        raw[c] = value(c, static_cast<uint32_t>(done));
        consumed_[c] = done;
      } else {
        raw[c] = -1;  // DOUT high during all 24 pulses
      }
    }
  }

  uint64_t periodUs() const { return periodUs_; }

  std::function<int32_t(uint8_t channel, uint32_t conversion)> value =
      [](uint8_t channel, uint32_t conversion) {
        return static_cast<int32_t>(1000 * (channel + 1) + conversion);
      };
  bool dead[kMaxChannels] = {};
  uint64_t offsetUs[kMaxChannels] = {};
  std::vector<uint8_t> rates;
  std::vector<std::string> calls;  // reset / rate, in order
  int resets = 0;
  int reads = 0;

 private:
  void restart() {
    epochUs_ = clock_.us;
    for (auto& c : consumed_) c = 0;
  }
  uint64_t completed(uint8_t c) const {
    const uint64_t since = clock_.us - epochUs_;
    return since < offsetUs[c] ? 0 : (since - offsetUs[c]) / periodUs_;
  }

  Clock& clock_;
  uint8_t channels_;
  uint64_t periodUs_ = 12500;
  uint64_t epochUs_ = 0;
  uint64_t consumed_[kMaxChannels] = {};
};

// A line the shelf sent, split at its fields; `crcOk` when its `*XXXX` is right.
struct Line {
  std::string text;
  std::vector<std::string> fields;
  bool crcOk = false;
};

std::vector<Line> splitLines(const std::string& sent);

}  // namespace fakes

#endif
