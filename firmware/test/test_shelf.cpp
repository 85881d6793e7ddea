#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "../src/core/crc16.h"
#include "../src/core/serial_store.h"
#include "../src/core/shelf.h"
#include "fakes.h"

using namespace shelfsense;
using fakes::Line;

namespace {

std::string framed(const std::string& body) {
  char suffix[8];
  std::snprintf(suffix, sizeof suffix, "*%04X", crc16(body.data(), body.size()));
  return body + suffix + "\n";
}

// A shelf on fakes: 115200 baud UART with a 256-byte transmit buffer (the AVR build's size).
struct Rig {
  explicit Rig(uint8_t channels = 4, uint8_t rate = 80, size_t txBuffer = 256,
               Thermometer* thermometer = nullptr)
      : board(clock, txBuffer),
        sensor(clock, channels),
        eeprom(clock),
        settings{"1.0.0", channels, rate},
        shelf(board, sensor, eeprom, settings, thermometer) {}

  void boot() {
    board.usPerMillisCall = 20;  // a first boot busy-waits on millis() for a conversion
    shelf.begin();
    board.usPerMillisCall = 0;
  }
  void run(uint32_t ms, uint64_t stepUs = 250) {
    const uint64_t until = clock.us + static_cast<uint64_t>(ms) * 1000;
    while (clock.us < until) {
      clock.us += stepUs;
      shelf.poll();
    }
  }
  std::vector<Line> lines() const { return fakes::splitLines(board.sent); }
  std::vector<Line> samples() const {
    std::vector<Line> out;
    for (const Line& l : lines()) {
      if (!l.fields.empty() && l.fields[0] == "S") out.push_back(l);
    }
    return out;
  }
  std::vector<std::string> replies() const {
    std::vector<std::string> out;
    for (const Line& l : lines()) {
      if (!l.fields.empty() && l.fields[0] != "S") out.push_back(l.text.substr(0, l.text.size() - 5));
    }
    return out;
  }

  fakes::Clock clock;
  fakes::Board board;
  fakes::Sensor sensor;
  fakes::Eeprom eeprom;
  ShelfSettings settings;
  Shelf shelf;
};

unsigned long seqOf(const Line& l) { return std::stoul(l.fields.at(1)); }

// A thermometer whose next reading the test sets; counts how often the shelf asks.
struct FakeThermometer : Thermometer {
  int16_t readCentiC() override {
    ++reads;
    return next;
  }
  int16_t next = 2350;
  int reads = 0;
};

// The temperature field of a sample line, or "" for a v1 line.
std::string tempField(const Line& l) {
  const std::string& last = l.fields.back();
  return !last.empty() && last[0] == 'T' ? last : "";
}

void putSerial(fakes::Eeprom& eeprom, const std::string& serial, bool locked) {
  fakes::Clock clock;
  fakes::Eeprom scratch(clock);
  SerialStore store(scratch);
  store.store(serial.data(), serial.size(), locked);
  for (int i = 0; i < 1000 && store.writing(); ++i) {
    clock.us += 5000;
    store.poll();
  }
  for (int i = 0; i < 37; ++i) eeprom.bytes[i] = scratch.bytes[i];
}

}  // namespace

TEST_SUITE("shelf") {
  TEST_CASE("boot: HX711 reset, then the RATE pin, then ID once, then samples") {
    Rig rig;
    putSerial(rig.eeprom, "SHELF-0042", true);
    rig.boot();
    CHECK(rig.sensor.calls == std::vector<std::string>{"reset", "rate 80"});
    rig.run(1000);
    const std::vector<Line> lines = rig.lines();
    REQUIRE(lines.size() > 70);
    CHECK(lines[0].text == "ID,SHELF-0042,1.0.0,4,80*3B55");
    for (size_t i = 1; i < lines.size(); ++i) {
      CHECK(lines[i].fields.at(0) == "S");
      CHECK(lines[i].crcOk);
    }
    CHECK(seqOf(lines[1]) == 0);
  }

  TEST_CASE("first boot on a blank EEPROM: SS- and 8 hex digits, announced, then stored unlocked") {
    Rig rig;
    rig.boot();
    const std::vector<Line> lines = rig.lines();
    REQUIRE(lines.size() == 1);
    const std::string serial = lines[0].fields.at(1);
    REQUIRE(serial.size() == 11);
    CHECK(serial.compare(0, 3, "SS-") == 0);
    CHECK(serial.find_first_not_of("0123456789ABCDEF", 3) == std::string::npos);
    rig.run(500);  // the EEPROM write proceeds while sampling
    SerialStore stored(rig.eeprom);
    REQUIRE(stored.load());
    CHECK(std::string(stored.serial(), stored.serialLength()) == serial);
    CHECK_FALSE(stored.locked());
  }

  TEST_CASE("the generated serial mixes timer noise and the HX711's first conversion") {
    auto serialWith = [](uint32_t entropy, int32_t noise) {
      Rig rig;
      rig.board.entropyWord = entropy;
      rig.sensor.value = [noise](uint8_t c, uint32_t) { return static_cast<int32_t>(c) + noise; };
      rig.boot();
      return rig.lines().at(0).fields.at(1);
    };
    const std::string base = serialWith(1, 100);
    CHECK(serialWith(1, 100) == base);  // same noise, same serial: nothing else goes in
    CHECK(serialWith(2, 100) != base);
    CHECK(serialWith(1, 101) != base);
  }

  TEST_CASE("first boot with a dead chip waits at most 4 conversion periods before announcing itself") {
    Rig rig;
    rig.sensor.dead[2] = true;
    rig.boot();
    REQUIRE(rig.lines().size() == 1);
    CHECK(rig.lines()[0].fields.at(0) == "ID");
    CHECK(rig.clock.us <= 51000);  // 4 periods at 80 SPS
    CHECK(rig.sensor.reads == 1);  // the live chips' noise went into the serial
  }

  TEST_CASE("a chip with a unique id is SS- and its id in hex") {
    Rig rig;
    rig.board.id = {0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56};
    rig.boot();
    CHECK(rig.lines().at(0).fields.at(1) == "SS-240AC4123456");
  }

  TEST_CASE("each non-blank line gets exactly one reply, in the order received; blank lines none") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.board.send(framed("ID") + "\n" + framed("PING,a1") + "\r\n\r\n" + framed("RATE,20") + "junk\n" +
                   framed("PING,b2"));
    rig.run(100);
    CHECK(rig.replies() == std::vector<std::string>{"ID,SN1,1.0.0,4,80", "ID,SN1,1.0.0,4,80", "PONG,a1",
                                                     "ERR,BADARG,bad rate", "ERR,BADCRC,bad framing",
                                                     "PONG,b2"});
  }

  TEST_CASE("every refusal of the protocol, end to end, with its exact ERR line") {
    struct Case {
      std::string sent;
      std::string reply;
    };
    const std::vector<Case> cases = {
        {std::string(200, 'A') + "\n", "ERR,BADCRC,line too long"},
        {"ID\x07*A21B\n", "ERR,BADCRC,non-printable byte"},
        {"ID\n", "ERR,BADCRC,bad framing"},
        {"ID*a21b\n", "ERR,BADCRC,bad framing"},
        {"ID*A21C\n", "ERR,BADCRC,checksum mismatch"},
        {framed("HELLO"), "ERR,BADCMD,unknown command"},
        {framed("RATE,40"), "ERR,BADARG,bad rate"},
        {framed("PING,not-ok"), "ERR,BADARG,bad token"},
        {framed("SERIAL,has space"), "ERR,BADARG,bad serial"},
        {framed("RATE,10,80"), "ERR,BADARG,bad arguments"},
        {framed("ID,1"), "ERR,BADARG,bad arguments"},
    };
    for (const Case& c : cases) {
      CAPTURE(c.sent);
      Rig rig;
      putSerial(rig.eeprom, "SN1", true);
      rig.boot();
      rig.board.send(c.sent);
      rig.run(20);
      const std::vector<std::string> replies = rig.replies();
      REQUIRE(replies.size() == 2);
      CHECK(replies[1] == c.reply);
      for (const Line& l : rig.lines()) CHECK(l.crcOk);
    }
  }

  TEST_CASE("replies go ahead of samples: a reply and a due frame in the same pass, the reply first") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.run(100);
    // Stop right where a conversion is ready and a command has arrived.
    while (rig.sensor.readyMask() != 0x0F) rig.clock.us += 50;
    rig.board.send(framed("PING,first"));
    const size_t before = rig.lines().size();
    rig.shelf.poll();
    const std::vector<Line> lines = rig.lines();
    REQUIRE(lines.size() == before + 2);
    CHECK(lines[before].fields.at(0) == "PONG");
    CHECK(lines[before + 1].fields.at(0) == "S");
  }

  TEST_CASE("a reply leaves the UART within 50 ms of its LF at 8 channels, 80 SPS, full-length frames") {
    Rig rig(8, 80);
    putSerial(rig.eeprom, "SN1", false);
    rig.sensor.value = [](uint8_t, uint32_t) { return -8388608; };
    rig.boot();
    rig.run(200);
    for (int i = 0; i < 40; ++i) {
      const size_t replyIndex = rig.board.lineDoneUs.size();
      const uint64_t lfAt = rig.clock.us;
      rig.board.send(framed(i % 2 ? "ID" : "PING,t" + std::to_string(i)));
      rig.run(60, 250 + 37 * static_cast<uint64_t>(i));
      // The reply is the first line written after the command.
      const std::vector<Line> lines = rig.lines();
      REQUIRE(lines.size() > replyIndex);
      CHECK(lines[replyIndex].fields.at(0) != "S");
      CHECK(rig.board.lineDoneUs[replyIndex] - lfAt <= 50000);
    }
    CHECK(rig.board.blockingWrites == 0);
  }

  TEST_CASE("a frame that does not fit the transmit buffer is dropped whole and its seq stays consumed") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.run(200);
    rig.board.stallTx(true);  // the buffer fills and stays full
    rig.run(200);
    rig.board.stallTx(false);
    rig.run(200);
    const std::vector<Line> samples = rig.samples();
    CHECK(rig.board.blockingWrites == 0);
    for (const Line& l : rig.lines()) CHECK(l.crcOk);  // never a partial line
    unsigned long gaps = 0;
    for (size_t i = 1; i < samples.size(); ++i) {
      const unsigned long step = seqOf(samples[i]) - seqOf(samples[i - 1]);
      CHECK(step >= 1);
      gaps += step - 1;
    }
    // 200 ms at 80 SPS is 16 frames; the ~255 free bytes took about 7 of them.
    CHECK(gaps >= 8);
    CHECK(gaps <= 16);
    // Every conversion consumed a seq: the last seq counts all frames since settling ended.
    CHECK(seqOf(samples.back()) + 1 == samples.size() + gaps);
  }

  TEST_CASE("a reply waiting for room is never dropped and goes out before the samples behind it") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.run(100);
    rig.board.stallTx(true);
    rig.run(100);
    rig.board.send(framed("PING,late") + framed("PING,later"));
    rig.run(100);
    rig.board.stallTx(false);
    rig.run(100);
    const std::vector<Line> lines = rig.lines();
    size_t pong = 0;
    while (pong < lines.size() && lines[pong].fields.at(0) != "PONG") ++pong;
    REQUIRE(pong + 1 < lines.size());
    CHECK(lines[pong].fields.at(1) == "late");
    CHECK(lines[pong + 1].fields.at(0) == "PONG");
    CHECK(lines[pong + 1].fields.at(1) == "later");
    CHECK(rig.board.blockingWrites == 0);
  }

  TEST_CASE("RATE,10: OK,RATE,10, ID says 10, samples every 100 ms after 400 ms settling, seq continues") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.run(500);
    const size_t before = rig.samples().size();
    const uint64_t sentAt = rig.clock.us;
    rig.board.send(framed("RATE,10"));
    rig.run(1000);
    rig.board.send(framed("ID"));
    rig.run(50);
    CHECK(rig.replies() == std::vector<std::string>{"ID,SN1,1.0.0,4,80", "OK,RATE,10", "ID,SN1,1.0.0,4,10"});
    CHECK(rig.sensor.rates.back() == 10);
    const std::vector<Line> samples = rig.samples();
    REQUIRE(samples.size() > before + 3);
    for (size_t i = 1; i < samples.size(); ++i) CHECK(seqOf(samples[i]) == seqOf(samples[i - 1]) + 1);
    const unsigned long firstSlowMs = std::stoul(samples[before].fields.at(2));
    CHECK(firstSlowMs >= sentAt / 1000 + 400);
    CHECK(std::stoul(samples[before + 1].fields.at(2)) - firstSlowMs == 100);
  }

  TEST_CASE("SERIAL provisions once: OK, answered by ID, locked in EEPROM across a reboot, then refused") {
    Rig rig;
    rig.boot();
    rig.run(100);
    rig.board.send(framed("SERIAL,SHELF-0042"));
    rig.run(20);
    rig.board.send(framed("ID"));
    rig.run(500);  // long enough for the EEPROM write
    std::vector<std::string> replies = rig.replies();
    REQUIRE(replies.size() == 3);
    CHECK(replies[1] == "OK,SERIAL,SHELF-0042");
    CHECK(replies[2] == "ID,SHELF-0042,1.0.0,4,80");

    // Reboot on the same EEPROM: the serial and its lock are kept.
    fakes::Clock clock;
    fakes::Board board(clock);
    fakes::Sensor sensor(clock, 4);
    Shelf rebooted(board, sensor, rig.eeprom, rig.settings);
    rebooted.begin();
    board.send(framed("SERIAL,OTHER-1"));
    for (int i = 0; i < 100; ++i) {
      clock.us += 250;
      rebooted.poll();
    }
    const std::vector<Line> lines = fakes::splitLines(board.sent);
    REQUIRE(lines.size() >= 2);
    CHECK(lines[0].text.compare(0, 17, "ID,SHELF-0042,1.0") == 0);
    size_t err = 1;
    while (err < lines.size() && lines[err].fields.at(0) == "S") ++err;
    REQUIRE(err < lines.size());
    CHECK(lines[err].text.compare(0, 27, "ERR,BADARG,serial is locked") == 0);
  }

  TEST_CASE("on a locked shelf a malformed serial is still bad serial: the format is checked before the lock") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", true);
    rig.boot();
    rig.board.send(framed("SERIAL,bad serial") + framed("SERIAL,GOOD-1"));
    rig.run(20);
    CHECK(rig.replies() == std::vector<std::string>{"ID,SN1,1.0.0,4,80", "ERR,BADARG,bad serial",
                                                     "ERR,BADARG,serial is locked"});
  }

  TEST_CASE("the SERIAL line in docs/firmware.md is accepted exactly as written") {
    Rig rig;
    rig.boot();
    rig.board.send("SERIAL,SHELF-0001*3FDA\n");
    rig.run(20);
    const std::vector<Line> lines = rig.lines();
    bool found = false;
    for (const Line& l : lines) found = found || l.text == "OK,SERIAL,SHELF-0001*511E";
    CHECK(found);
  }

  TEST_CASE("the watchdog is kicked on every pass of the loop") {
    Rig rig;
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    const int before = rig.board.kicks;
    rig.run(100);  // 400 passes
    CHECK(rig.board.kicks - before == 400);
  }

  TEST_CASE("8 channels of full-length frames at 80 SPS fit 115200 baud: 10 s without a drop") {
    Rig rig(8, 80);
    putSerial(rig.eeprom, "SN1", false);
    rig.sensor.value = [](uint8_t c, uint32_t) { return c % 2 ? -8388608 : 8388607; };
    rig.boot();
    rig.run(10000);
    const std::vector<Line> samples = rig.samples();
    CHECK(samples.size() == 797);  // conversions 4 to 800: 50 ms to 10 s, every 12.5 ms
    CHECK(seqOf(samples.back()) == samples.size() - 1);
    for (const Line& l : samples) CHECK(l.fields.size() == 3 + 8);
    CHECK(rig.board.blockingWrites == 0);
  }

  TEST_CASE("v1.1: each reading of the thermometer, once a second, rides on the next frame as T") {
    FakeThermometer thermometer;
    Rig rig(4, 80, 256, &thermometer);
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.run(5100);
    CHECK(thermometer.reads == 5);
    std::vector<unsigned long> withT;
    for (const Line& l : rig.samples()) {
      CHECK(l.crcOk);
      const std::string t = tempField(l);
      if (t.empty()) {
        CHECK(l.fields.size() == 3 + 4);
        continue;
      }
      CHECK(t == "T2350");
      CHECK(l.fields.size() == 3 + 4 + 1);  // T is not a channel
      withT.push_back(std::stoul(l.fields.at(2)));
    }
    // The first a period after boot, then one a second, each on the frame right after the read.
    REQUIRE(withT.size() == 5);
    for (size_t i = 0; i < withT.size(); ++i) {
      CHECK(withT[i] >= 1000 * (i + 1));
      CHECK(withT[i] < 1000 * (i + 1) + 13);
    }
  }

  TEST_CASE("v1.1: a thermometer that has no reading, or one out of range, sends no T field") {
    FakeThermometer thermometer;
    Rig rig(2, 80, 256, &thermometer);
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    thermometer.next = kNoTemperature;
    rig.run(2100);
    thermometer.next = 12501;
    rig.run(1000);
    thermometer.next = -5501;
    rig.run(1000);
    thermometer.next = -512;
    rig.run(1000);
    CHECK(thermometer.reads == 5);
    std::vector<std::string> temps;
    for (const Line& l : rig.samples()) {
      if (!tempField(l).empty()) temps.push_back(tempField(l));
    }
    CHECK(temps == std::vector<std::string>{"T-512"});
  }

  TEST_CASE("v1.1: a frame dropped for a full transmit buffer loses its reading; the next comes a second later") {
    FakeThermometer thermometer;
    Rig rig(4, 80, 256, &thermometer);
    putSerial(rig.eeprom, "SN1", false);
    rig.boot();
    rig.run(900);
    rig.board.stallTx(true);  // the frame due to carry the first reading is dropped
    rig.run(300);
    rig.board.stallTx(false);
    rig.run(1000);
    unsigned long count = 0;
    for (const Line& l : rig.samples()) {
      if (tempField(l).empty()) continue;
      ++count;
      CHECK(std::stoul(l.fields.at(2)) >= 2000);
    }
    CHECK(count == 1);
  }

  TEST_CASE("v1.1: 8 channels with the temperature field still fit 115200 baud at 80 SPS") {
    FakeThermometer thermometer;
    thermometer.next = -5500;
    Rig rig(8, 80, 256, &thermometer);
    putSerial(rig.eeprom, "SN1", false);
    rig.sensor.value = [](uint8_t c, uint32_t) { return c % 2 ? -8388608 : 8388607; };
    rig.boot();
    rig.run(10000);
    const std::vector<Line> samples = rig.samples();
    CHECK(samples.size() == 797);
    CHECK(seqOf(samples.back()) == samples.size() - 1);
    size_t withT = 0;
    for (const Line& l : samples) {
      if (tempField(l).empty()) continue;
      ++withT;
      CHECK(tempField(l) == "T-5500");
      CHECK(l.fields.size() == 3 + 8 + 1);
    }
    CHECK(withT == 10);
    CHECK(rig.board.blockingWrites == 0);
  }
}
