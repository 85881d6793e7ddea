#include <doctest/doctest.h>

#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "../src/core/frame_writer.h"
#include "../src/core/protocol.h"

using namespace shelfsense;

namespace {

struct Buffer {
  char bytes[kMaxLineLength + 8];
  std::string text(size_t n) const { return std::string(bytes, n); }
};

std::string sample(uint32_t seq, uint32_t ms, std::initializer_list<int32_t> raw) {
  Buffer b;
  LineWriter line(b.bytes, sizeof b.bytes);
  const std::vector<int32_t> values(raw);
  return b.text(writeSample(line, seq, ms, values.data(), static_cast<uint8_t>(values.size())));
}

std::string unsignedText(uint32_t v) {
  Buffer b;
  LineWriter line(b.bytes, sizeof b.bytes);
  line.putUnsigned(v);
  const size_t n = line.finish();
  return b.text(n - 6);  // without *XXXX\n
}

std::string signedText(int32_t v) {
  Buffer b;
  LineWriter line(b.bytes, sizeof b.bytes);
  line.putSigned(v);
  const size_t n = line.finish();
  return b.text(n - 6);
}

}  // namespace

TEST_SUITE("frame writer") {
  TEST_CASE("sample frame is S,<seq>,<deviceMs>,<raw…>*XXXX\\n, byte for byte the TypeScript encoder's") {
    CHECK(sample(42, 1000, {8123, -77}) == "S,42,1000,8123,-77*BA91\n");
    CHECK(sample(0, 0, {0}) == "S,0,0,0*39DF\n");
  }

  TEST_CASE("numbers are canonical decimal: no leading zeros, no +, no -0") {
    CHECK(unsignedText(0) == "0");
    CHECK(unsignedText(7) == "7");
    CHECK(unsignedText(10) == "10");
    CHECK(unsignedText(100) == "100");
    CHECK(signedText(0) == "0");
    CHECK(signedText(-1) == "-1");
    CHECK(signedText(-10) == "-10");
  }

  TEST_CASE("uint32 and int24 extremes are written exactly") {
    CHECK(unsignedText(4294967295u) == "4294967295");
    CHECK(unsignedText(4000000000u) == "4000000000");
    CHECK(unsignedText(999999999u) == "999999999");
    CHECK(unsignedText(1000000000u) == "1000000000");
    CHECK(signedText(8388607) == "8388607");
    CHECK(signedText(-8388608) == "-8388608");
    CHECK(signedText(INT32_MIN) == "-2147483648");
    CHECK(signedText(INT32_MAX) == "2147483647");
  }

  TEST_CASE("hand-written decimal agrees with printf for every power of ten and 200000 random values") {
    std::mt19937 rng(7);
    char expected[16];
    for (uint64_t p = 1; p <= 4294967295u; p *= 10) {
      for (int64_t delta = -1; delta <= 1; ++delta) {
        const uint64_t v = p + static_cast<uint64_t>(delta);
        if (v > 4294967295u) continue;
        std::snprintf(expected, sizeof expected, "%lu", static_cast<unsigned long>(v));
        REQUIRE(unsignedText(static_cast<uint32_t>(v)) == expected);
      }
    }
    for (int i = 0; i < 200000; ++i) {
      const uint32_t u = static_cast<uint32_t>(rng()) >> (rng() % 32);
      std::snprintf(expected, sizeof expected, "%lu", static_cast<unsigned long>(u));
      REQUIRE(unsignedText(u) == expected);
      const int32_t s = static_cast<int32_t>(rng()) >> (rng() % 32);
      std::snprintf(expected, sizeof expected, "%ld", static_cast<long>(s));
      REQUIRE(signedText(s) == expected);
    }
  }

  TEST_CASE("the longest 8-channel frame is 101 bytes and fits the 160-character limit") {
    const std::string line = sample(4294967295u, 4294967295u,
                                    {-8388608, -8388608, -8388608, -8388608, -8388608, -8388608,
                                     -8388608, -8388608});
    CHECK(line.size() == 101);
    CHECK(line.back() == '\n');
  }

  TEST_CASE("v1.1: the temperature field goes last, canonical, and only within -55 ... 125 degC") {
    Buffer b;
    const int32_t raw[] = {8123, -77};
    const auto withTemp = [&](int16_t t) {
      LineWriter line(b.bytes, sizeof b.bytes);
      return b.text(writeSample(line, 12, 412, raw, 2, t));
    };
    CHECK(withTemp(2350) == "S,12,412,8123,-77,T2350*31B2\n");
    CHECK(withTemp(0).substr(0, 21) == "S,12,412,8123,-77,T0*");
    CHECK(withTemp(-5500).substr(0, 24) == "S,12,412,8123,-77,T-5500");
    CHECK(withTemp(12500).substr(0, 24) == "S,12,412,8123,-77,T12500");
    // Out of range or none: a v1 line, exactly as without the argument.
    LineWriter v1(b.bytes, sizeof b.bytes);
    const std::string plain = b.text(writeSample(v1, 12, 412, raw, 2));
    CHECK(withTemp(kNoTemperature) == plain);
    CHECK(withTemp(12501) == plain);
    CHECK(withTemp(-5501) == plain);
  }

  TEST_CASE("v1.1: the longest 8-channel frame with a temperature is 108 bytes") {
    Buffer b;
    const int32_t raw[8] = {-8388608, -8388608, -8388608, -8388608, -8388608, -8388608, -8388608, -8388608};
    LineWriter line(b.bytes, sizeof b.bytes);
    const size_t n = writeSample(line, 4294967295u, 4294967295u, raw, 8, -5500);
    CHECK(n == kMaxSampleLine);
    CHECK(kMaxSampleLine == 108);
  }

  TEST_CASE("identity, pong, OK and ERR lines match the protocol byte for byte") {
    Buffer b;
    {
      LineWriter line(b.bytes, sizeof b.bytes);
      CHECK(b.text(writeIdentity(line, "SN-0001", 7, "1.0.0", 4, 80)) == "ID,SN-0001,1.0.0,4,80*B140\n");
    }
    {
      LineWriter line(b.bytes, sizeof b.bytes);
      CHECK(b.text(writePong(line, "abc123", 6)) == "PONG,abc123*D20C\n");
    }
    {
      LineWriter line(b.bytes, sizeof b.bytes);
      CHECK(b.text(writeRateOk(line, 10)) == "OK,RATE,10*EC56\n");
    }
    {
      LineWriter line(b.bytes, sizeof b.bytes);
      CHECK(b.text(writeSerialOk(line, "SHELF-0042", 10)) == "OK,SERIAL,SHELF-0042*ADB9\n");
    }
    {
      LineWriter line(b.bytes, sizeof b.bytes);
      CHECK(b.text(writeError(line, Fault::kChecksum)) == "ERR,BADCRC,checksum mismatch*68F0\n");
    }
  }

  TEST_CASE("the longest identity (32-char serial, 24-char firmware) fits the reply buffer") {
    char reply[kMaxReplyLine];
    LineWriter line(reply, sizeof reply);
    const std::string serial(32, 'S');
    const std::string firmware(24, '9');
    const size_t n = writeIdentity(line, serial.data(), serial.size(), firmware.c_str(), 8, 80);
    CHECK(n == kMaxReplyLine);
    CHECK(std::string(reply, n).compare(0, 3, "ID,") == 0);
  }

  TEST_CASE("a line over 160 characters is refused whole, never cut short or written past its buffer") {
    char fits[200];
    LineWriter line(fits, sizeof fits);
    line.put(std::string(155, 'x').c_str());  // 155 + "*XXXX" = 160: still allowed
    CHECK(line.finish() == 161);

    char tooLong[200];
    LineWriter longer(tooLong, sizeof tooLong);
    longer.put(std::string(156, 'x').c_str());
    CHECK(longer.finish() == 0);

    char small[20];
    small[19] = '#';
    LineWriter tight(small, 19);
    tight.put("0123456789ABCDEFGHIJ");
    CHECK(tight.finish() == 0);
    CHECK(small[19] == '#');
  }
}
