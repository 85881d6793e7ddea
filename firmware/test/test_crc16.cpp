#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <random>
#include <string>

#include "../src/core/crc16.h"

using shelfsense::crc16;

namespace {

// The bit-by-bit reference from docs/serial-protocol.md.
uint16_t crc16Reference(const char* s, size_t n) {
  uint16_t crc = 0xFFFF;
  for (size_t i = 0; i < n; i++) {
    crc ^= static_cast<uint16_t>(static_cast<uint8_t>(s[i]) << 8);
    for (int b = 0; b < 8; b++) {
      crc = (crc & 0x8000) ? static_cast<uint16_t>((crc << 1) ^ 0x1021) : static_cast<uint16_t>(crc << 1);
    }
  }
  return crc;
}

uint16_t crcOf(const std::string& s) { return crc16(s.data(), s.size()); }

}  // namespace

TEST_SUITE("crc16") {
  TEST_CASE("CRC-16/CCITT-FALSE check value: \"123456789\" gives 0x29B1") {
    CHECK(crcOf("123456789") == 0x29B1);
  }

  TEST_CASE("CRC of nothing is the initial value 0xFFFF (no final XOR)") {
    CHECK(crc16("", 0) == 0xFFFF);
  }

  // Computed by frameLine() of protocol/src/serial.ts, the TypeScript reference.
  TEST_CASE("CRC matches the TypeScript reference for the protocol's lines") {
    struct Vector {
      const char* body;
      uint16_t crc;
    };
    const Vector vectors[] = {
        {"S,42,1000,8123,-77", 0xBA91},
        {"ID,SN-0001,1.0.0,4,80", 0xB140},
        {"PONG,abc123", 0xD20C},
        {"OK,RATE,10", 0xEC56},
        {"OK,RATE,80", 0x56CE},
        {"ERR,BADCRC,checksum mismatch", 0x68F0},
        {"ERR,BADCMD,unknown command", 0x9F8C},
        {"ERR,BADARG,serial is locked", 0xAC3D},
        {"S,4294967295,4294967295,-8388608,8388607,-1,0,1,-1,8388607,-8388608", 0x3EC6},
        {"S,0,0,0", 0x39DF},
        {"ID", 0xA21B},
        {"RATE,10", 0xE9B7},
        {"RATE,80", 0x532F},
        {"PING,tok1", 0xBB5A},
        {"SERIAL,SHELF-0042", 0xC37D},
        {"OK,SERIAL,SHELF-0042", 0xADB9},
        {"ID,SS-1A2B3C4D,1.0.0,8,80", 0x168F},
    };
    for (const Vector& v : vectors) {
      CAPTURE(v.body);
      CHECK(crcOf(v.body) == v.crc);
    }
  }

  TEST_CASE("byte-wise CRC equals the documented bit-by-bit loop for every byte value and random data") {
    for (int b = 0; b < 256; ++b) {
      const char c = static_cast<char>(b);
      CAPTURE(b);
      CHECK(crc16(&c, 1) == crc16Reference(&c, 1));
    }
    std::mt19937 rng(1);
    for (int round = 0; round < 2000; ++round) {
      std::string s(rng() % 200, '\0');
      for (char& c : s) c = static_cast<char>(rng());
      REQUIRE(crcOf(s) == crc16Reference(s.data(), s.size()));
    }
  }

  TEST_CASE("crc16Update folds one byte at a time into the same CRC as crc16") {
    const char* text = "PING,tok1";
    uint16_t crc = shelfsense::kCrc16Init;
    for (size_t i = 0; i < std::strlen(text); ++i) crc = shelfsense::crc16Update(crc, static_cast<uint8_t>(text[i]));
    CHECK(crc == 0xBB5A);
  }
}
