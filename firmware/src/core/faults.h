// Why a host line was refused, in the order the checks apply: length, printable bytes, framing,
// checksum, command, arguments. Each maps to the exact `ERR,<code>,<detail>` reply of docs/serial-protocol.md.
#ifndef SHELFSENSE_CORE_FAULTS_H
#define SHELFSENSE_CORE_FAULTS_H

#include <stdint.h>

namespace shelfsense {

enum class Fault : uint8_t {
  kNone,
  kLineTooLong,      // BADCRC, line too long
  kNonPrintable,     // BADCRC, non-printable byte
  kFraming,          // BADCRC, bad framing (no *XXXX suffix, bad digits, * in BODY)
  kChecksum,         // BADCRC, checksum mismatch
  kUnknownCommand,   // BADCMD, unknown command
  kBadArguments,     // BADARG, bad arguments (wrong number of fields)
  kBadRate,          // BADARG, bad rate
  kBadToken,         // BADARG, bad token
  kBadSerial,        // BADARG, bad serial
  kSerialLocked,     // BADARG, serial is locked
};

const char* faultCode(Fault fault);
const char* faultDetail(Fault fault);

}  // namespace shelfsense

#endif
