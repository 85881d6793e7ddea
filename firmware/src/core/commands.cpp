#include "commands.h"

#include "protocol.h"

namespace shelfsense {

namespace {

bool isAlnum(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool equals(const char* text, size_t length, const char* literal) {
  size_t i = 0;
  for (; i < length; ++i) {
    if (literal[i] != text[i]) return false;  // also stops at the literal's NUL
  }
  return literal[i] == '\0';
}

bool isValidToken(const char* token, size_t length) {
  if (length < 1 || length > kMaxTokenLength) return false;
  for (size_t i = 0; i < length; ++i) {
    if (!isAlnum(token[i])) return false;
  }
  return true;
}

}  // namespace

bool isValidSerial(const char* serial, size_t length) {
  if (length < 1 || length > kMaxSerialLength) return false;
  for (size_t i = 0; i < length; ++i) {
    const char c = serial[i];
    if (!isAlnum(c) && c != '_' && c != '-') return false;
  }
  return true;
}

Command parseCommand(const char* body, size_t length) {
  Command cmd;
  cmd.kind = CommandKind::kIdentify;
  cmd.fault = Fault::kNone;
  cmd.rate = 0;
  cmd.arg = nullptr;
  cmd.argLength = 0;

  size_t nameLength = 0;
  while (nameLength < length && body[nameLength] != ',') ++nameLength;
  size_t fields = 1;
  for (size_t i = nameLength; i < length; ++i) {
    if (body[i] == ',') ++fields;
  }
  // The argument of a two-field command runs from the first comma to the end.
  const char* arg = fields == 2 ? body + nameLength + 1 : body + length;
  const size_t argLength = fields == 2 ? length - nameLength - 1 : 0;

  if (equals(body, nameLength, "ID")) {
    cmd.kind = CommandKind::kIdentify;
    if (fields != 1) cmd.fault = Fault::kBadArguments;
  } else if (equals(body, nameLength, "RATE")) {
    cmd.kind = CommandKind::kRate;
    if (fields != 2) {
      cmd.fault = Fault::kBadArguments;
    } else if (equals(arg, argLength, "10")) {
      cmd.rate = kRateSlow;
    } else if (equals(arg, argLength, "80")) {
      cmd.rate = kRateFast;
    } else {
      cmd.fault = Fault::kBadRate;
    }
  } else if (equals(body, nameLength, "PING")) {
    cmd.kind = CommandKind::kPing;
    if (fields != 2) {
      cmd.fault = Fault::kBadArguments;
    } else if (!isValidToken(arg, argLength)) {
      cmd.fault = Fault::kBadToken;
    }
  } else if (equals(body, nameLength, "SERIAL")) {
    cmd.kind = CommandKind::kSerial;
    if (fields != 2) {
      cmd.fault = Fault::kBadArguments;
    } else if (!isValidSerial(arg, argLength)) {
      cmd.fault = Fault::kBadSerial;
    }
  } else {
    cmd.fault = Fault::kUnknownCommand;
  }
  if (cmd.fault == Fault::kNone && fields == 2) {
    cmd.arg = arg;
    cmd.argLength = static_cast<uint8_t>(argLength);
  }
  return cmd;
}

}  // namespace shelfsense
