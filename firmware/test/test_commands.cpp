#include <doctest/doctest.h>

#include <string>

#include "../src/core/commands.h"

using namespace shelfsense;

namespace {

Command parse(const std::string& body) { return parseCommand(body.data(), body.size()); }

Fault faultOf(const std::string& body) { return parse(body).fault; }

std::string argOf(const Command& cmd) { return std::string(cmd.arg, cmd.argLength); }

}  // namespace

TEST_SUITE("commands") {
  TEST_CASE("ID parses with no arguments") {
    const std::string body = "ID";
    const Command cmd = parse(body);
    CHECK(cmd.fault == Fault::kNone);
    CHECK(cmd.kind == CommandKind::kIdentify);
  }

  TEST_CASE("RATE,10 and RATE,80 parse to their rates") {
    CHECK(parse("RATE,10").kind == CommandKind::kRate);
    CHECK(parse("RATE,10").rate == 10);
    CHECK(parse("RATE,80").rate == 80);
    CHECK(parse("RATE,80").fault == Fault::kNone);
  }

  TEST_CASE("PING carries a 1-16 letter/digit token") {
    const std::string body = "PING,aZ09";  // the command points into its body
    const Command cmd = parse(body);
    CHECK(cmd.fault == Fault::kNone);
    CHECK(cmd.kind == CommandKind::kPing);
    CHECK(argOf(cmd) == "aZ09");
    CHECK(argOf(parse("PING,x")) == "x");
    CHECK(argOf(parse("PING,0123456789abcdef")) == "0123456789abcdef");
  }

  TEST_CASE("SERIAL carries a [A-Za-z0-9_-]{1,32} serial") {
    const std::string body = "SERIAL,SHELF_a-09";
    const Command cmd = parse(body);
    CHECK(cmd.fault == Fault::kNone);
    CHECK(cmd.kind == CommandKind::kSerial);
    CHECK(argOf(cmd) == "SHELF_a-09");
    const std::string longest = "SERIAL," + std::string(32, 'Q');
    CHECK(argOf(parse(longest)) == std::string(32, 'Q'));
  }

  TEST_CASE("unknown commands are BADCMD: names are exact and case-sensitive") {
    for (const char* body : {"id", "IDX", "I", "REBOOT", "RATE80", "PINGX,a", "S,1,2,3", ",ID", "OK,RATE,10"}) {
      CAPTURE(body);
      CHECK(faultOf(body) == Fault::kUnknownCommand);
    }
  }

  TEST_CASE("a wrong number of fields is bad arguments") {
    for (const char* body : {"ID,", "ID,1", "RATE", "RATE,10,10", "PING", "PING,a,b", "SERIAL", "SERIAL,A,B"}) {
      CAPTURE(body);
      CHECK(faultOf(body) == Fault::kBadArguments);
    }
  }

  TEST_CASE("RATE other than exactly 10 or 80 is bad rate") {
    for (const char* body : {"RATE,", "RATE,20", "RATE,010", "RATE,8", "RATE,800", "RATE,+80", "RATE,80 ", "RATE,1O"}) {
      CAPTURE(body);
      CHECK(faultOf(body) == Fault::kBadRate);
    }
  }

  TEST_CASE("a PING token that is empty, over 16 or not letters/digits is bad token") {
    for (const std::string& body : {std::string("PING,"), std::string("PING,") + std::string(17, 'a'),
                                   std::string("PING,tok-1"), std::string("PING,to k"), std::string("PING,tok_1")}) {
      CAPTURE(body);
      CHECK(faultOf(body) == Fault::kBadToken);
    }
  }

  TEST_CASE("a serial that is empty, over 32 or holds other characters is bad serial") {
    for (const std::string& body : {std::string("SERIAL,"), std::string("SERIAL,") + std::string(33, 'a'),
                                   std::string("SERIAL,A B"), std::string("SERIAL,SN.1"), std::string("SERIAL,SN/1")}) {
      CAPTURE(body);
      CHECK(faultOf(body) == Fault::kBadSerial);
    }
  }

  TEST_CASE("the command is checked before its fields, the field count before the value") {
    CHECK(faultOf("NOPE,1,2,3") == Fault::kUnknownCommand);
    CHECK(faultOf("RATE,20,x") == Fault::kBadArguments);
    CHECK(faultOf("PING,-,-") == Fault::kBadArguments);
    CHECK(faultOf("SERIAL,a b,c") == Fault::kBadArguments);
  }

  TEST_CASE("isValidSerial follows the protocol's serial rule") {
    CHECK(isValidSerial("SS-1A2B3C4D", 11));
    CHECK(isValidSerial("a", 1));
    CHECK_FALSE(isValidSerial("", 0));
    CHECK_FALSE(isValidSerial("a*b", 3));
  }
}
