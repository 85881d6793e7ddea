// The test vectors of docs/serial-protocol.md (between its test-vectors markers), held against
// the firmware's own writer, receiver and parser: the firmware makes the shelf's lines byte for
// byte and takes the host's.
#include <doctest/doctest.h>

#include <cstdio>
#include <string>

#include "../src/core/commands.h"
#include "../src/core/crc16.h"
#include "../src/core/frame_writer.h"
#include "../src/core/line_receiver.h"

using namespace shelfsense;

namespace {

const char* const kVectors[] = {
    "123456789*29B1\n",
    "ID*A21B\n",
    "PING,abc123*A1B3\n",
    "RATE,10*E9B7\n",
    "RATE,80*532F\n",
    "SERIAL,SHELF-0001*3FDA\n",
    "ID,SHELF-0001,1.0.0,4,80*3B67\n",
    "PONG,abc123*D20C\n",
    "OK,RATE,10*EC56\n",
    "OK,SERIAL,SHELF-0001*511E\n",
    "ERR,BADCRC,checksum mismatch*68F0\n",
    "ERR,BADCMD,unknown command*9F8C\n",
    "ERR,BADARG,bad rate*5515\n",
    "S,0,412,8123,-77*FFB1\n",
    "S,42,1000,0,-1,8388607,-8388608*507B\n",
    "S,4294967295,4294967295,-8388608,-8388608,-8388608,-8388608,-8388608,-8388608,-8388608,-8388608*A16B\n",
    "S,12,412,8123,-77,T2350*31B2\n",
    "S,13,425,8120,-75,T-512*D4CE\n",
    "S,0,412,8123,-77,T0*E5D0\n",
    "S,42,1000,0,-1,8388607,-8388608,T12500*5CAC\n",
    "S,4294967295,4294967295,-8388608,-8388608,-8388608,-8388608,-8388608,-8388608,-8388608,-8388608,T-5500*0F8D\n",
};

struct Written {
  char bytes[kMaxLineLength + 1];
  size_t length = 0;
  std::string text() const { return std::string(bytes, length); }
};

// Whatever `line` the host receives through the firmware's receiver: its verdict and body.
Command receive(const std::string& line, Fault* fault) {
  static LineReceiver rx;
  bool ended = false;
  for (char c : line) ended = rx.feed(static_cast<uint8_t>(c));
  REQUIRE(ended);
  *fault = rx.fault();
  return parseCommand(rx.body(), rx.bodyLength());
}

}  // namespace

TEST_SUITE("protocol test vectors") {
  TEST_CASE("every test vector's checksum is the CRC of its BODY") {
    for (const char* v : kVectors) {
      const std::string line(v);
      CAPTURE(line);
      const size_t star = line.rfind('*');
      char hex[5];
      std::snprintf(hex, sizeof hex, "%04X", crc16(line.data(), star));
      CHECK(line.substr(star + 1, 4) == hex);
    }
  }

  TEST_CASE("the shelf's lines of the test vectors are what the frame writer makes, byte for byte") {
    Written w;
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeIdentity(line, "SHELF-0001", 10, "1.0.0", 4, 80);
      CHECK(w.text() == "ID,SHELF-0001,1.0.0,4,80*3B67\n");
    }
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writePong(line, "abc123", 6);
      CHECK(w.text() == "PONG,abc123*D20C\n");
    }
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeRateOk(line, 10);
      CHECK(w.text() == "OK,RATE,10*EC56\n");
    }
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSerialOk(line, "SHELF-0001", 10);
      CHECK(w.text() == "OK,SERIAL,SHELF-0001*511E\n");
    }
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeError(line, Fault::kChecksum);
      CHECK(w.text() == "ERR,BADCRC,checksum mismatch*68F0\n");
    }
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeError(line, Fault::kUnknownCommand);
      CHECK(w.text() == "ERR,BADCMD,unknown command*9F8C\n");
    }
    {
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeError(line, Fault::kBadRate);
      CHECK(w.text() == "ERR,BADARG,bad rate*5515\n");
    }
    {
      const int32_t raw[] = {8123, -77};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 0, 412, raw, 2);
      CHECK(w.text() == "S,0,412,8123,-77*FFB1\n");
    }
    {
      const int32_t raw[] = {0, -1, 8388607, -8388608};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 42, 1000, raw, 4);
      CHECK(w.text() == "S,42,1000,0,-1,8388607,-8388608*507B\n");
    }
    {
      const int32_t raw[8] = {-8388608, -8388608, -8388608, -8388608, -8388608, -8388608, -8388608, -8388608};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 4294967295u, 4294967295u, raw, 8);
      CHECK(w.text() == kVectors[15]);
      CHECK(w.length == 101);
    }
    // v1.1: the temperature vectors.
    {
      const int32_t raw[] = {8123, -77};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 12, 412, raw, 2, 2350);
      CHECK(w.text() == kVectors[16]);
    }
    {
      const int32_t raw[] = {8120, -75};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 13, 425, raw, 2, -512);
      CHECK(w.text() == kVectors[17]);
    }
    {
      const int32_t raw[] = {8123, -77};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 0, 412, raw, 2, 0);
      CHECK(w.text() == kVectors[18]);
    }
    {
      const int32_t raw[] = {0, -1, 8388607, -8388608};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 42, 1000, raw, 4, 12500);
      CHECK(w.text() == kVectors[19]);
    }
    {
      const int32_t raw[8] = {-8388608, -8388608, -8388608, -8388608, -8388608, -8388608, -8388608, -8388608};
      LineWriter line(w.bytes, sizeof w.bytes);
      w.length = writeSample(line, 4294967295u, 4294967295u, raw, 8, -5500);
      CHECK(w.text() == kVectors[20]);
      CHECK(w.length == 108);
    }
  }

  TEST_CASE("the host's commands of the test vectors pass the receiver and parse") {
    Fault fault = Fault::kNone;
    Command cmd = receive("ID*A21B\n", &fault);
    CHECK(fault == Fault::kNone);
    CHECK(cmd.fault == Fault::kNone);
    CHECK(cmd.kind == CommandKind::kIdentify);

    cmd = receive("PING,abc123*A1B3\n", &fault);
    CHECK(fault == Fault::kNone);
    CHECK(cmd.kind == CommandKind::kPing);
    CHECK(std::string(cmd.arg, cmd.argLength) == "abc123");

    cmd = receive("RATE,10*E9B7\n", &fault);
    CHECK(cmd.kind == CommandKind::kRate);
    CHECK(cmd.rate == 10);
    cmd = receive("RATE,80*532F\n", &fault);
    CHECK(cmd.rate == 80);

    cmd = receive("SERIAL,SHELF-0001*3FDA\n", &fault);
    CHECK(fault == Fault::kNone);
    CHECK(cmd.kind == CommandKind::kSerial);
    CHECK(std::string(cmd.arg, cmd.argLength) == "SHELF-0001");

    // Framed and checksummed, but no command: answered as unknown.
    cmd = receive("123456789*29B1\n", &fault);
    CHECK(fault == Fault::kNone);
    CHECK(cmd.fault == Fault::kUnknownCommand);
  }
}
