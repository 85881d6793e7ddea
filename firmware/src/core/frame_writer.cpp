#include "frame_writer.h"

#include "crc16.h"
#include "protocol.h"

namespace shelfsense {

namespace {

const char kHexDigits[] = "0123456789ABCDEF";

// n / 10 by shifts and adds (Hacker's Delight, divu10): neither the AVR nor the Cortex-M0+ has a
// divide instruction, and libgcc's 32-bit division costs ~40 µs per digit on a 16 MHz AVR — an
// 8-channel frame would spend 4 ms of its 12.5 ms period on it.
uint32_t divideBy10(uint32_t n, uint8_t* remainder) {
  uint32_t q = (n >> 1) + (n >> 2);
  q += q >> 4;
  q += q >> 8;
  q += q >> 16;
  q >>= 3;
  uint32_t r = n - ((q << 2) + q) * 2;
  if (r > 9) {
    ++q;
    r -= 10;
  }
  *remainder = static_cast<uint8_t>(r);
  return q;
}

}  // namespace

LineWriter::LineWriter(char* buffer, size_t capacity)
    : buffer_(buffer), capacity_(capacity), length_(0), overflow_(false) {}

LineWriter& LineWriter::put(char c) {
  // Room is kept for `*XXXX` and '\n', so a body that fits always gets its checksum.
  const size_t lineLength = length_ + 1 + kSuffixLength;
  if (lineLength > kMaxLineLength || lineLength + 1 > capacity_) {
    overflow_ = true;
    return *this;
  }
  buffer_[length_++] = c;
  return *this;
}

LineWriter& LineWriter::put(const char* text) {
  while (*text != '\0') put(*text++);
  return *this;
}

LineWriter& LineWriter::put(const char* text, size_t length) {
  for (size_t i = 0; i < length; ++i) put(text[i]);
  return *this;
}

LineWriter& LineWriter::putUnsigned(uint32_t value) {
  char digits[10];
  uint8_t count = 0;
  do {
    uint8_t digit;
    value = divideBy10(value, &digit);
    digits[count++] = static_cast<char>('0' + digit);
  } while (value != 0);
  while (count > 0) put(digits[--count]);
  return *this;
}

LineWriter& LineWriter::putSigned(int32_t value) {
  if (value < 0) {
    put('-');
    // 0 - v in unsigned arithmetic is the magnitude, INT32_MIN included.
    return putUnsigned(0u - static_cast<uint32_t>(value));
  }
  return putUnsigned(static_cast<uint32_t>(value));
}

size_t LineWriter::finish() {
  if (overflow_) return 0;
  const uint16_t crc = crc16(buffer_, length_);
  buffer_[length_++] = '*';
  for (int shift = 12; shift >= 0; shift -= 4) buffer_[length_++] = kHexDigits[(crc >> shift) & 0xF];
  buffer_[length_++] = '\n';
  return length_;
}

size_t writeSample(LineWriter& line, uint32_t seq, uint32_t deviceMs, const int32_t* raw,
                   uint8_t channels, int16_t tempCentiC) {
  line.put("S,").putUnsigned(seq).put(',').putUnsigned(deviceMs);
  for (uint8_t c = 0; c < channels; ++c) line.put(',').putSigned(raw[c]);
  if (validTemperature(tempCentiC)) line.put(",T").putSigned(tempCentiC);
  return line.finish();
}

size_t writeIdentity(LineWriter& line, const char* serial, size_t serialLength,
                     const char* firmware, uint8_t channels, uint8_t rate) {
  line.put("ID,").put(serial, serialLength).put(',').put(firmware).put(',');
  line.putUnsigned(channels).put(',').putUnsigned(rate);
  return line.finish();
}

size_t writePong(LineWriter& line, const char* token, size_t tokenLength) {
  line.put("PONG,").put(token, tokenLength);
  return line.finish();
}

size_t writeRateOk(LineWriter& line, uint8_t rate) {
  line.put("OK,RATE,").putUnsigned(rate);
  return line.finish();
}

size_t writeSerialOk(LineWriter& line, const char* serial, size_t serialLength) {
  line.put("OK,SERIAL,").put(serial, serialLength);
  return line.finish();
}

size_t writeError(LineWriter& line, Fault fault) {
  line.put("ERR,").put(faultCode(fault)).put(',').put(faultDetail(fault));
  return line.finish();
}

}  // namespace shelfsense
