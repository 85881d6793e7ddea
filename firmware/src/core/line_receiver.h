// Assembles host command lines byte by byte and checks them in the protocol's order: length (160,
// the rest discarded up to the LF), printable bytes, `BODY*XXXX` framing, checksum. Accepts `\n`
// and `\r\n` endings; a blank line is no line at all.
#ifndef SHELFSENSE_CORE_LINE_RECEIVER_H
#define SHELFSENSE_CORE_LINE_RECEIVER_H

#include <stddef.h>
#include <stdint.h>

#include "faults.h"
#include "protocol.h"

namespace shelfsense {

class LineReceiver {
 public:
  LineReceiver();

  // Takes one received byte. Returns true when it ended a non-blank line: then fault() is the
  // verdict, and when it is Fault::kNone, body() holds the checked BODY until the next feed().
  bool feed(uint8_t byte);

  Fault fault() const { return fault_; }
  const char* body() const { return buffer_; }
  size_t bodyLength() const { return bodyLength_; }

 private:
  void take(uint8_t byte);
  Fault check(size_t length) const;

  char buffer_[kMaxLineLength];
  size_t length_;  // characters so far; stops counting at kMaxLineLength + 1 (too long)
  size_t bodyLength_;
  Fault fault_;
  bool pendingCr_;  // a CR is part of the ending only if a LF follows it
  bool nonPrintable_;
};

}  // namespace shelfsense

#endif
