// Host commands: `ID`, `RATE,<10|80>`, `PING,<token>`, `SERIAL,<serial>`. Parsing is pure; the
// shelf carries out a parsed command (and checks the serial lock, which is state, not syntax).
#ifndef SHELFSENSE_CORE_COMMANDS_H
#define SHELFSENSE_CORE_COMMANDS_H

#include <stddef.h>
#include <stdint.h>

#include "faults.h"

namespace shelfsense {

enum class CommandKind : uint8_t { kIdentify, kRate, kPing, kSerial };

struct Command {
  CommandKind kind;
  Fault fault;         // Fault::kNone when the command and its arguments are valid
  uint8_t rate;        // kRate: 10 or 80
  const char* arg;     // kPing: the token; kSerial: the serial (points into the parsed body)
  uint8_t argLength;
};

// Parses a BODY that passed the line checks. Faults, in the order they are checked: unknown
// command, then the number of fields (bad arguments), then the argument (bad rate / token /
// serial).
Command parseCommand(const char* body, size_t length);

// `[A-Za-z0-9_-]{1,32}`, the serial number rule of the protocol.
bool isValidSerial(const char* serial, size_t length);

}  // namespace shelfsense

#endif
