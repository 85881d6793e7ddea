#include "line_receiver.h"

#include "crc16.h"

namespace shelfsense {

namespace {

// Upper-case only: protocol v1 has receivers reject lower-case checksums.
int hexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

LineReceiver::LineReceiver()
    : length_(0), bodyLength_(0), fault_(Fault::kNone), pendingCr_(false), nonPrintable_(false) {}

bool LineReceiver::feed(uint8_t byte) {
  if (byte == '\n') {
    const size_t length = length_;
    length_ = 0;
    pendingCr_ = false;
    if (length == 0) return false;  // `\n` or `\r\n` alone: ignored, no reply
    fault_ = check(length);
    nonPrintable_ = false;
    bodyLength_ = fault_ == Fault::kNone ? length - kSuffixLength : 0;
    return true;
  }
  if (pendingCr_) {
    pendingCr_ = false;
    take('\r');  // a CR not followed by LF is a byte of the line (and not a printable one)
  }
  if (byte == '\r') {
    pendingCr_ = true;
  } else {
    take(byte);
  }
  return false;
}

void LineReceiver::take(uint8_t byte) {
  if (length_ > kMaxLineLength) return;  // already too long: discarded up to the LF
  if (length_ < kMaxLineLength) buffer_[length_] = static_cast<char>(byte);
  ++length_;
  if (byte < 0x20 || byte > 0x7E) nonPrintable_ = true;
}

Fault LineReceiver::check(size_t length) const {
  if (length > kMaxLineLength) return Fault::kLineTooLong;
  if (nonPrintable_) return Fault::kNonPrintable;
  // An empty BODY is no BODY: the host's decoder refuses `*XXXX` alone as framing too.
  if (length < kSuffixLength + 1) return Fault::kFraming;
  const size_t star = length - kSuffixLength;
  if (buffer_[star] != '*') return Fault::kFraming;
  uint16_t sent = 0;
  for (size_t i = star + 1; i < length; ++i) {
    const int digit = hexValue(buffer_[i]);
    if (digit < 0) return Fault::kFraming;
    sent = static_cast<uint16_t>((sent << 4) | digit);
  }
  for (size_t i = 0; i < star; ++i) {
    if (buffer_[i] == '*') return Fault::kFraming;
  }
  if (crc16(buffer_, star) != sent) return Fault::kChecksum;
  return Fault::kNone;
}

}  // namespace shelfsense
