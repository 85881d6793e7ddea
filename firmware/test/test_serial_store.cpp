#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "../src/core/commands.h"
#include "../src/core/eeprom_layout.h"
#include "../src/core/serial_number.h"
#include "../src/core/serial_store.h"
#include "fakes.h"

using namespace shelfsense;
namespace layout = shelfsense::eeprom_layout;

namespace {

// The record for `serial` exactly as docs/firmware.md lays it out, built here independently.
std::vector<uint8_t> recordOf(const std::string& serial, bool locked) {
  std::vector<uint8_t> r(37, 0xFF);
  r[0] = 'S';
  r[1] = 'N';
  r[2] = locked ? 1 : 0;
  r[3] = static_cast<uint8_t>(serial.size());
  for (size_t i = 0; i < serial.size(); ++i) r[4 + i] = static_cast<uint8_t>(serial[i]);
  unsigned sum = 0;
  for (int i = 0; i < 36; ++i) sum += r[i];
  r[36] = static_cast<uint8_t>((sum % 256) ^ 0xA5);
  return r;
}

// Polls the store with the clock running until its write is done.
void finishWriting(fakes::Clock& clock, SerialStore& store) {
  for (int i = 0; i < 10000 && store.writing(); ++i) {
    clock.us += 500;
    store.poll();
  }
  REQUIRE_FALSE(store.writing());
}

std::string serialOf(const SerialStore& store) { return std::string(store.serial(), store.serialLength()); }

}  // namespace

TEST_SUITE("serial store") {
  TEST_CASE("the layout constants are the documented ones: magic SN at 0, flags 2, length 3, serial 4-35, check 36") {
    CHECK(layout::kBase == 0);
    CHECK(layout::kMagic0 == 0x53);
    CHECK(layout::kMagic1 == 0x4E);
    CHECK(layout::kFlagsAt == 2);
    CHECK(layout::kFlagLocked == 0x01);
    CHECK(layout::kLengthAt == 3);
    CHECK(layout::kSerialAt == 4);
    CHECK(layout::kSerialCapacity == 32);
    CHECK(layout::kCheckAt == 36);
    CHECK(layout::kRecordSize == 37);
    CHECK(layout::kCheckXor == 0xA5);
  }

  TEST_CASE("a blank (all 0xFF) EEPROM holds no serial") {
    fakes::Clock clock;
    fakes::Eeprom eeprom(clock);
    SerialStore store(eeprom);
    CHECK_FALSE(store.load());
    CHECK_FALSE(store.valid());
    CHECK_FALSE(store.locked());
    CHECK(store.serialLength() == 0);
  }

  TEST_CASE("a stored serial lands in EEPROM byte for byte as the layout says, and loads back") {
    fakes::Clock clock;
    fakes::Eeprom eeprom(clock);
    SerialStore store(eeprom);
    store.store("SHELF-0042", 10, true);
    finishWriting(clock, store);
    const std::vector<uint8_t> expected = recordOf("SHELF-0042", true);
    CHECK(std::vector<uint8_t>(eeprom.bytes.begin(), eeprom.bytes.begin() + 37) == expected);
    CHECK(eeprom.bytes[37] == 0xFF);  // nothing written past the record

    SerialStore reloaded(eeprom);
    CHECK(reloaded.load());
    CHECK(reloaded.locked());
    CHECK(serialOf(reloaded) == "SHELF-0042");
  }

  TEST_CASE("a record written by the layout's rules loads, unlocked and with a 32-character serial") {
    fakes::Clock clock;
    fakes::Eeprom eeprom(clock);
    const std::string serial(32, 'z');
    eeprom.putRecord(recordOf(serial, false).data());
    SerialStore store(eeprom);
    CHECK(store.load());
    CHECK_FALSE(store.locked());
    CHECK(serialOf(store) == serial);
  }

  TEST_CASE("a corrupt record holds no serial: check, magic, length, characters, unused bytes") {
    struct Corruption {
      const char* what;
      int at;
      uint8_t value;
      bool fixCheck;
    };
    const Corruption cases[] = {
        {"check byte off by one", 36, 0, false},
        {"magic S wrong", 0, 's', true},
        {"magic N wrong", 1, 'M', true},
        {"length 0", 3, 0, true},
        {"length 33", 3, 33, true},
        {"length past the characters", 3, 11, true},
        {"a character outside the serial rule", 5, '*', true},
        {"an unused byte not 0xFF", 20, 0x00, true},
        {"a flipped serial bit with the old check", 4, 'S' ^ 0x01, false},
    };
    for (const Corruption& c : cases) {
      CAPTURE(c.what);
      fakes::Clock clock;
      fakes::Eeprom eeprom(clock);
      std::vector<uint8_t> r = recordOf("SN-1234567", false);
      r[c.at] = c.at == 36 ? static_cast<uint8_t>(r[36] + 1) : c.value;
      if (c.fixCheck) r[36] = layout::checkOf(r.data());
      eeprom.putRecord(r.data());
      SerialStore store(eeprom);
      CHECK_FALSE(store.load());
      CHECK_FALSE(store.locked());
    }
  }

  TEST_CASE("reserved flag bits do not invalidate a record; bit 0 alone is the lock") {
    fakes::Clock clock;
    fakes::Eeprom eeprom(clock);
    std::vector<uint8_t> r = recordOf("SN1", false);
    r[2] = 0x02;
    r[36] = layout::checkOf(r.data());
    eeprom.putRecord(r.data());
    SerialStore store(eeprom);
    CHECK(store.load());
    CHECK_FALSE(store.locked());
  }

  TEST_CASE("the new serial is in effect at once while EEPROM writes go one byte per ready EEPROM") {
    fakes::Clock clock;
    fakes::Eeprom eeprom(clock);
    SerialStore store(eeprom);
    store.store("SN-9", 4, true);
    CHECK(serialOf(store) == "SN-9");
    CHECK(store.locked());
    int polls = 0;
    while (store.writing()) {
      store.poll();
      ++polls;
      clock.us += 100;  // the EEPROM stays busy 3.4 ms per byte: most polls write nothing
      REQUIRE(polls < 100000);
    }
    CHECK(eeprom.writesWhileBusy == 0);
    CHECK(eeprom.readsWhileBusy == 0);
    CHECK(eeprom.commits == 1);
    // Blank EEPROM: magic clear is skipped (already 0xFF); 36 bytes change, 4..7 of them the serial.
    CHECK(eeprom.writes == 1 + 1 + 1 + 1 + 4 + 1);
    CHECK(eeprom.writeLog.back() == 0);  // the magic goes last: the commit point
  }

  TEST_CASE("a power cut at any point of a write leaves the old record or none, never a mix") {
    const std::vector<uint8_t> before = recordOf("SS-00C0FFEE", false);
    fakes::Clock probeClock;
    fakes::Eeprom probe(probeClock);
    probe.putRecord(before.data());
    SerialStore counter(probe);
    counter.load();
    counter.store("SHELF-0042", 10, true);
    finishWriting(probeClock, counter);
    const int totalWrites = probe.writes;
    REQUIRE(totalWrites > 3);

    for (int cut = 0; cut <= totalWrites; ++cut) {
      CAPTURE(cut);
      fakes::Clock clock;
      fakes::Eeprom eeprom(clock);
      eeprom.putRecord(before.data());
      SerialStore store(eeprom);
      store.load();
      store.store("SHELF-0042", 10, true);
      while (store.writing() && eeprom.writes < cut) {
        clock.us += 500;
        store.poll();
      }
      SerialStore afterReboot(eeprom);
      const bool valid = afterReboot.load();
      if (cut == 0) {
        CHECK(valid);
        CHECK(serialOf(afterReboot) == "SS-00C0FFEE");
      } else if (cut < totalWrites) {
        CHECK_FALSE(valid);
      } else {
        CHECK(valid);
        CHECK(serialOf(afterReboot) == "SHELF-0042");
        CHECK(afterReboot.locked());
      }
    }
  }

  TEST_CASE("bytes already right are not rewritten (EEPROM wear)") {
    fakes::Clock clock;
    fakes::Eeprom eeprom(clock);
    eeprom.putRecord(recordOf("SHELF-0042", false).data());
    SerialStore store(eeprom);
    REQUIRE(store.load());
    store.store("SHELF-0042", 10, true);  // only the lock flag and the check change
    finishWriting(clock, store);
    CHECK(eeprom.writes == 4);  // magic off, flags, check, magic on
  }

  TEST_CASE("a generated serial is SS- and 8 upper-case hex digits of the entropy") {
    char out[kGeneratedSerialCapacity];
    CHECK(std::string(out, formatEntropySerial(0x00C0FFEEu, out)) == "SS-00C0FFEE");
    CHECK(std::string(out, formatEntropySerial(0xFFFFFFFFu, out)) == "SS-FFFFFFFF");
    CHECK(isValidSerial(out, 11));
  }

  TEST_CASE("a unique-id serial is SS- and the id in hex: 8 to 16 digits") {
    char out[kGeneratedSerialCapacity];
    const uint8_t mac[6] = {0x24, 0x0A, 0xC4, 0x12, 0x34, 0x56};
    CHECK(std::string(out, formatUniqueIdSerial(mac, 6, out)) == "SS-240AC4123456");
    const uint8_t flash[8] = {0xE6, 0x60, 0x58, 0x38, 0x83, 0x4B, 0x2D, 0x2F};
    CHECK(std::string(out, formatUniqueIdSerial(flash, 8, out)) == "SS-E6605838834B2D2F");
    const uint8_t word[4] = {0, 1, 2, 3};
    CHECK(std::string(out, formatUniqueIdSerial(word, 4, out)) == "SS-00010203");
  }

  TEST_CASE("the entropy pool spreads a one-bit difference over the whole serial") {
    EntropyPool a;
    EntropyPool b;
    a.mix(0x1000);
    b.mix(0x1001);
    const uint32_t diff = a.value() ^ b.value();
    int bits = 0;
    for (uint32_t d = diff; d != 0; d &= d - 1) ++bits;
    CHECK(bits >= 8);
  }
}
