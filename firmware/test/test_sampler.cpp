#include <doctest/doctest.h>

#include <vector>

#include "../src/core/sampler.h"
#include "fakes.h"

using namespace shelfsense;

namespace {

struct Bench {
  Bench(uint8_t channels, uint8_t rate) : sensor(clock, channels), sampler(sensor, channels, rate) {
    sampler.begin(clock.ms());
  }
  // Polls every `stepUs` until `untilMs`, collecting the frames.
  void runUntil(uint32_t untilMs, uint64_t stepUs = 250) {
    while (clock.ms() < untilMs) {
      clock.us += stepUs;
      Frame f;
      if (sampler.poll(clock.ms(), f)) frames.push_back(f);
    }
  }
  fakes::Clock clock;
  fakes::Sensor sensor;
  Sampler sampler;
  std::vector<Frame> frames;
};

void checkSeqContinuous(const std::vector<Frame>& frames) {
  for (size_t i = 0; i < frames.size(); ++i) REQUIRE(frames[i].seq == i);
}

}  // namespace

TEST_SUITE("sample scheduler") {
  TEST_CASE("80 SPS: conversions within 50 ms of reset are read and discarded; the first frame is seq 0") {
    Bench b(4, 80);
    CHECK(b.sensor.rates == std::vector<uint8_t>{80});
    b.runUntil(49);
    CHECK(b.frames.empty());
    CHECK(b.sensor.reads == 3);  // 12.5, 25, 37.5 ms: clocked out so the chips keep converting
    b.runUntil(51);
    REQUIRE(b.frames.size() == 1);
    CHECK(b.frames[0].seq == 0);
    CHECK(b.frames[0].deviceMs == 50);
    CHECK(b.frames[0].raw[0] == 1000 + 4);  // the 4th conversion of channel 0
    CHECK(b.frames[0].raw[3] == 4000 + 4);
  }

  TEST_CASE("settling: the 3rd conversion after reset is discarded even when found late, the 4th kept") {
    Bench fast(1, 80);
    fast.runUntil(42, 42000);  // one poll at 42 ms finds the 37.5 ms conversion, 4.5 ms late
    CHECK(fast.sensor.reads == 1);
    CHECK(fast.frames.empty());
    fast.runUntil(50, 1000);  // the 50 ms conversion is the first frame
    REQUIRE(fast.frames.size() == 1);
    CHECK(fast.frames[0].seq == 0);
    CHECK(fast.frames[0].deviceMs == 50);

    Bench slow(1, 10);
    slow.runUntil(340, 340000);  // the 300 ms conversion, found 40 ms late
    CHECK(slow.sensor.reads == 1);
    CHECK(slow.frames.empty());
    slow.runUntil(400, 1000);
    REQUIRE(slow.frames.size() == 1);
    CHECK(slow.frames[0].deviceMs == 400);
  }

  TEST_CASE("settling: the 4th conversion is kept though millis() was read 2 ms late at the reset") {
    for (uint8_t rate : {80, 10}) {
      CAPTURE(rate);
      fakes::Clock clock;
      fakes::Sensor sensor(clock, 1);
      Sampler sampler(sensor, 1, rate);
      sampler.begin(2);  // the chips reset at 0 ms; the clock said 2 (a millis() step, latency)
      const uint32_t fourth = rate == 80 ? 50 : 400;
      Frame f;
      bool sent = false;
      while (!sent && clock.ms() <= fourth) {
        clock.us += 250;
        sent = sampler.poll(clock.ms(), f);
      }
      CHECK(sent);
      CHECK(f.deviceMs == fourth);
      CHECK(sensor.reads == 4);
    }
  }

  TEST_CASE("10 SPS: the settling window is 400 ms and frames come every 100 ms") {
    Bench b(2, 10);
    CHECK(b.sensor.rates == std::vector<uint8_t>{10});
    b.runUntil(399);
    CHECK(b.frames.empty());
    CHECK(b.sensor.reads == 3);
    b.runUntil(1001);
    REQUIRE(b.frames.size() == 7);  // 400, 500, … 1000
    checkSeqContinuous(b.frames);
    for (size_t i = 0; i < b.frames.size(); ++i) CHECK(b.frames[i].deviceMs == 400 + 100 * i);
  }

  TEST_CASE("seq counts frames from 0 and deviceMs is when the conversion was found ready") {
    Bench b(1, 80);
    b.runUntil(1000, 3000);  // polled every 3 ms: found up to 3 ms after it completed
    REQUIRE(b.frames.size() > 60);
    checkSeqContinuous(b.frames);
    for (const Frame& f : b.frames) {
      const uint32_t completedMs = static_cast<uint32_t>((f.raw[0] - 1000) * 12.5);
      CHECK(f.deviceMs >= completedMs);
      CHECK(f.deviceMs < completedMs + 3 + 1);
    }
  }

  TEST_CASE("frames wait until every chip is ready: chips out of phase read together") {
    Bench b(3, 80);
    b.sensor.offsetUs[1] = 4000;  // chip 1 finishes each conversion 4 ms after the others
    b.runUntil(200);
    REQUIRE_FALSE(b.frames.empty());
    for (const Frame& f : b.frames) {
      const int32_t conversion = f.raw[0] - 1000;
      CHECK(f.raw[1] - 2000 == conversion);  // the same conversion of every chip
      CHECK(f.deviceMs == (12500u * static_cast<uint32_t>(conversion) + 4000u) / 1000u);
    }
  }

  TEST_CASE("RATE change restarts settling at the new rate; seq and the clock continue") {
    Bench b(2, 80);
    b.runUntil(1000);
    const size_t before = b.frames.size();
    const uint32_t lastMs = b.frames.back().deviceMs;
    b.sampler.setRate(10, b.clock.ms());
    CHECK(b.sensor.rates.back() == 10);
    CHECK(b.sampler.rate() == 10);
    b.runUntil(2000);
    REQUIRE(b.frames.size() > before);
    checkSeqContinuous(b.frames);
    CHECK(b.frames[before].deviceMs >= lastMs + 400);  // 10 SPS settling
    CHECK(b.frames[before].deviceMs - 1000 == 400);
    CHECK(b.frames[before + 1].deviceMs - b.frames[before].deviceMs == 100);

    const size_t atTen = b.frames.size();
    b.sampler.setRate(80, b.clock.ms());
    b.runUntil(3000);
    checkSeqContinuous(b.frames);
    CHECK(b.frames[atTen].deviceMs - 2000 == 50);  // 80 SPS settling
  }

  TEST_CASE("RATE to the current rate changes nothing: no pin write, no settling gap") {
    Bench b(1, 80);
    b.runUntil(500);
    const size_t n = b.frames.size();
    b.sampler.setRate(80, b.clock.ms());
    b.runUntil(520);
    CHECK(b.sensor.rates.size() == 1);
    CHECK(b.frames.size() > n);
  }

  TEST_CASE("dead chip at 80 SPS: after 38 ms (3 periods) the frame goes out with it as 8388607, then full rate") {
    Bench b(4, 80);
    b.runUntil(500);
    const Frame last = b.frames.back();
    b.sensor.dead[2] = true;
    b.runUntil(1000);
    const size_t next = static_cast<size_t>(last.seq) + 1;
    REQUIRE(b.frames.size() > next + 10);
    checkSeqContinuous(b.frames);
    CHECK(b.frames[next].deviceMs - last.deviceMs == 38);
    for (size_t i = next; i < b.frames.size(); ++i) {
      CHECK(b.frames[i].raw[2] == kRawSaturated);
      CHECK(b.frames[i].raw[1] != kRawSaturated);
      if (i > next) CHECK(b.frames[i].deviceMs - b.frames[i - 1].deviceMs <= 13);
    }
    CHECK(b.sampler.deadMask() == 0x04);
  }

  TEST_CASE("dead chip at 10 SPS: the frame waits 300 ms (3 periods)") {
    Bench b(2, 10);
    b.runUntil(1000);
    const Frame last = b.frames.back();
    b.sensor.dead[0] = true;
    b.runUntil(2000);
    const size_t next = static_cast<size_t>(last.seq) + 1;
    REQUIRE(b.frames.size() > next + 1);
    CHECK(b.frames[next].deviceMs - last.deviceMs == 300);
    CHECK(b.frames[next].raw[0] == kRawSaturated);
    CHECK(b.frames[next + 1].deviceMs - b.frames[next].deviceMs == 100);
  }

  TEST_CASE("a dead chip never shows as -1: the all-ones it clocks out is replaced") {
    Bench b(2, 80);
    b.sensor.dead[1] = true;  // dead from power-up
    b.runUntil(1000);
    REQUIRE(b.frames.size() > 50);
    for (const Frame& f : b.frames) {
      CHECK(f.raw[1] == kRawSaturated);
      CHECK(f.raw[0] != -1);
    }
  }

  TEST_CASE("a chip that answers again rejoins the next frame with its reading") {
    Bench b(2, 80);
    b.sensor.dead[1] = true;
    b.runUntil(500);
    b.sensor.dead[1] = false;
    const size_t revived = b.frames.size();
    b.runUntil(600);
    REQUIRE(b.frames.size() > revived);
    CHECK(b.frames[revived].raw[1] != kRawSaturated);
    CHECK(b.sampler.deadMask() == 0);
  }

  TEST_CASE("with no chip ready nothing is read or sent") {
    Bench b(2, 80);
    b.sensor.dead[0] = true;
    b.sensor.dead[1] = true;
    b.runUntil(2000);
    CHECK(b.frames.empty());
    CHECK(b.sensor.reads == 0);
  }
}
