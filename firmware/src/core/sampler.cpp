#include "sampler.h"

namespace shelfsense {

namespace {

// The HX711 settles in 4 conversion periods (50 ms at 80 SPS, 400 ms at 10 SPS, datasheet): the
// first 3 conversions after a reset or RATE change are unsettled, the 4th, due at exactly 4
// periods, is the first good one. Each is judged by the period nearest to when it was found, so
// millis()'s 1 ms steps and loop latency cannot tip the 4th into the discarded ones.
uint32_t settledAfterMs(uint8_t rate) { return 3500u / rate; }

// 3 conversion periods, rounded up: 38 ms at 80 SPS, 300 ms at 10 SPS.
uint32_t deadAfterMs(uint8_t rate) { return (3000u + rate - 1) / rate; }

}  // namespace

Sampler::Sampler(Sensor& sensor, uint8_t channels, uint8_t rate)
    : sensor_(sensor),
      all_(static_cast<uint8_t>((1u << channels) - 1u)),
      rate_(rate),
      dead_(0),
      settling_(false),
      settleStartMs_(0),
      lastReadMs_(0),
      seq_(0) {}

void Sampler::begin(uint32_t nowMs) {
  sensor_.reset();
  sensor_.setRate(rate_);
  dead_ = 0;
  startSettling(nowMs);
}

void Sampler::setRate(uint8_t rate, uint32_t nowMs) {
  if (rate == rate_) return;
  rate_ = rate;
  sensor_.setRate(rate);
  startSettling(nowMs);
}

void Sampler::startSettling(uint32_t nowMs) {
  settling_ = true;
  settleStartMs_ = nowMs;
  // The first conversion at a new rate may take a whole new period: no channel is dead yet.
  lastReadMs_ = nowMs;
}

bool Sampler::poll(uint32_t nowMs, Frame& frame) {
  const uint8_t ready = static_cast<uint8_t>(sensor_.readyMask() & all_);
  if (ready == 0) return false;
  const uint8_t awaited = static_cast<uint8_t>(all_ & ~dead_);
  if ((ready & awaited) != awaited && nowMs - lastReadMs_ < deadAfterMs(rate_)) return false;

  sensor_.read(frame.raw);
  lastReadMs_ = nowMs;
  dead_ = static_cast<uint8_t>(all_ & ~ready);
  // A dead chip's DOUT floats high and clocks out as -1; never pass that off as a reading.
  uint8_t bit = 1;
  for (uint8_t c = 0; c < kMaxChannels; ++c, bit = static_cast<uint8_t>(bit << 1)) {
    if (dead_ & bit) frame.raw[c] = kRawSaturated;
  }

  if (settling_) {
    if (nowMs - settleStartMs_ < settledAfterMs(rate_)) return false;
    settling_ = false;
  }
  frame.seq = seq_++;
  frame.deviceMs = nowMs;
  return true;
}

}  // namespace shelfsense
