#include "faults.h"

namespace shelfsense {

const char* faultCode(Fault fault) {
  switch (fault) {
    case Fault::kLineTooLong:
    case Fault::kNonPrintable:
    case Fault::kFraming:
    case Fault::kChecksum:
      return "BADCRC";
    case Fault::kUnknownCommand:
      return "BADCMD";
    default:
      return "BADARG";
  }
}

const char* faultDetail(Fault fault) {
  switch (fault) {
    case Fault::kLineTooLong:
      return "line too long";
    case Fault::kNonPrintable:
      return "non-printable byte";
    case Fault::kFraming:
      return "bad framing";  // a detail never holds `*` or `,`
    case Fault::kChecksum:
      return "checksum mismatch";
    case Fault::kUnknownCommand:
      return "unknown command";
    case Fault::kBadRate:
      return "bad rate";
    case Fault::kBadToken:
      return "bad token";
    case Fault::kBadSerial:
      return "bad serial";
    case Fault::kSerialLocked:
      return "serial is locked";
    default:
      return "bad arguments";
  }
}

}  // namespace shelfsense
