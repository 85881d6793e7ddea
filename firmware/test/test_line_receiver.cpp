#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../src/core/crc16.h"
#include "../src/core/line_receiver.h"

using namespace shelfsense;

namespace {

std::string framed(const std::string& body) {
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "*%04X", crc16(body.data(), body.size()));
  return body + suffix;
}

struct Verdict {
  Fault fault;
  std::string body;
};

// Feeds `bytes` one at a time and collects a verdict for every line that ended.
std::vector<Verdict> receive(LineReceiver& rx, const std::string& bytes) {
  std::vector<Verdict> out;
  for (char c : bytes) {
    if (rx.feed(static_cast<uint8_t>(c))) {
      out.push_back({rx.fault(), rx.fault() == Fault::kNone ? std::string(rx.body(), rx.bodyLength()) : ""});
    }
  }
  return out;
}

Fault verdictOf(const std::string& bytes) {
  LineReceiver rx;
  const std::vector<Verdict> v = receive(rx, bytes);
  REQUIRE(v.size() == 1);
  return v[0].fault;
}

}  // namespace

TEST_SUITE("line receiver") {
  TEST_CASE("a framed line with the right checksum yields its BODY") {
    LineReceiver rx;
    const std::vector<Verdict> v = receive(rx, "PING,tok1*BB5A\n");
    REQUIRE(v.size() == 1);
    CHECK(v[0].fault == Fault::kNone);
    CHECK(v[0].body == "PING,tok1");
  }

  TEST_CASE("a CRLF line ending is accepted like LF") {
    LineReceiver rx;
    const std::vector<Verdict> v = receive(rx, "ID*A21B\r\n");
    REQUIRE(v.size() == 1);
    CHECK(v[0].fault == Fault::kNone);
    CHECK(v[0].body == "ID");
  }

  TEST_CASE("blank lines (LF or CRLF alone) are ignored: no verdict, no reply") {
    LineReceiver rx;
    CHECK(receive(rx, "\n\r\n\n").empty());
    const std::vector<Verdict> v = receive(rx, "\r\nID*A21B\n\n");
    REQUIRE(v.size() == 1);
    CHECK(v[0].body == "ID");
  }

  TEST_CASE("a line of exactly 160 characters is accepted; 161 is too long") {
    // PING's token is limited to 16, but the receiver checks framing only: a 155-char body.
    const std::string body160 = "X," + std::string(153, 'a');
    REQUIRE(framed(body160).size() == 160);
    CHECK(verdictOf(framed(body160) + "\n") == Fault::kNone);
    CHECK(verdictOf(framed(body160) + "\r\n") == Fault::kNone);  // the CR is not counted
    const std::string body161 = body160 + "a";
    REQUIRE(framed(body161).size() == 161);
    CHECK(verdictOf(framed(body161) + "\n") == Fault::kLineTooLong);
  }

  TEST_CASE("a too-long line is discarded up to its LF with one reply, and the next line is read cleanly") {
    LineReceiver rx;
    const std::vector<Verdict> v = receive(rx, std::string(1000, 'A') + "\nID*A21B\n");
    REQUIRE(v.size() == 2);
    CHECK(v[0].fault == Fault::kLineTooLong);
    CHECK(v[1].fault == Fault::kNone);
    CHECK(v[1].body == "ID");
  }

  TEST_CASE("any byte outside 0x20-0x7E before the line ending is a non-printable byte") {
    for (int b : {0x00, 0x01, 0x09, 0x1F, 0x7F, 0x80, 0xC3, 0xFF}) {
      CAPTURE(b);
      std::string line = "ID*A21B\n";
      line.insert(1, 1, static_cast<char>(b));
      CHECK(verdictOf(line) == Fault::kNonPrintable);
    }
  }

  TEST_CASE("a CR that is not followed by LF is a non-printable byte of the line") {
    CHECK(verdictOf("I\rD*A21B\n") == Fault::kNonPrintable);
    CHECK(verdictOf("ID*A21B\r\r\n") == Fault::kNonPrintable);
    CHECK(verdictOf("\r\r\n") == Fault::kNonPrintable);
  }

  TEST_CASE("framing: no *XXXX suffix, lower-case or non-hex digits, short suffix, * in BODY, empty BODY") {
    CHECK(verdictOf("ID\n") == Fault::kFraming);
    CHECK(verdictOf("ID*a21b\n") == Fault::kFraming);     // receivers reject lower-case hex
    CHECK(verdictOf("ID*A21G\n") == Fault::kFraming);
    CHECK(verdictOf("ID*A21\n") == Fault::kFraming);
    CHECK(verdictOf("ID*A21B0\n") == Fault::kFraming);
    CHECK(verdictOf("ID A21B\n") == Fault::kFraming);
    CHECK(verdictOf(framed("P*NG") + "\n") == Fault::kFraming);
    CHECK(verdictOf("*FFFF\n") == Fault::kFraming);
    CHECK(verdictOf(" \n") == Fault::kFraming);
  }

  TEST_CASE("a wrong checksum is a checksum mismatch") {
    CHECK(verdictOf("ID*A21C\n") == Fault::kChecksum);
    CHECK(verdictOf("ID*0000\n") == Fault::kChecksum);
    CHECK(verdictOf("PING,tok2*BB5A\n") == Fault::kChecksum);
  }

  TEST_CASE("checks apply in order: length, then printable, then framing, then checksum") {
    // Too long AND holding a control byte AND unframed: length wins.
    CHECK(verdictOf(std::string(170, '\x01') + "\n") == Fault::kLineTooLong);
    // Control byte AND unframed: printable wins.
    CHECK(verdictOf("\x01\n") == Fault::kNonPrintable);
    // Control byte inside an otherwise perfect line with the right CRC of that body.
    CHECK(verdictOf(framed("ID\x01") + "\n") == Fault::kNonPrintable);
    // Lower-case suffix that would also be the wrong checksum: framing before checksum.
    CHECK(verdictOf("ID*ffff\n") == Fault::kFraming);
  }

  TEST_CASE("the line buffer is reused: a long valid line after a short one parses whole") {
    LineReceiver rx;
    const std::string longBody = "SERIAL," + std::string(32, 'Z');
    const std::vector<Verdict> v = receive(rx, framed("ID") + "\n" + framed(longBody) + "\n" + framed("ID") + "\n");
    REQUIRE(v.size() == 3);
    CHECK(v[0].body == "ID");
    CHECK(v[1].body == longBody);
    CHECK(v[2].body == "ID");
  }
}
