// Builds the lines the shelf sends into a caller's fixed buffer: fields, numbers in canonical
// decimal (no leading zeros, no `+`, no `-0`) written by hand, then `*XXXX\n`.
#ifndef SHELFSENSE_CORE_FRAME_WRITER_H
#define SHELFSENSE_CORE_FRAME_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "faults.h"
#include "protocol.h"

namespace shelfsense {

class LineWriter {
 public:
  // `capacity` counts every byte the line may take, its '\n' included.
  LineWriter(char* buffer, size_t capacity);

  LineWriter& put(char c);
  LineWriter& put(const char* text);  // NUL-terminated
  LineWriter& put(const char* text, size_t length);
  LineWriter& putUnsigned(uint32_t value);
  LineWriter& putSigned(int32_t value);

  // Appends `*XXXX\n` and returns the whole line's length. Returns 0 when the line would exceed
  // the protocol's 160 characters or the buffer: a line is sent whole or not at all.
  size_t finish();

 private:
  char* buffer_;
  size_t capacity_;
  size_t length_;
  bool overflow_;
};

// Each returns the line's length with its '\n' (what LineWriter::finish() returns).
// `tempCentiC` in hundredths of a °C adds the v1.1 field `,T<value>` last; kNoTemperature (or a
// value outside −5500 … 12500) leaves it out, giving a v1 line.
size_t writeSample(LineWriter& line, uint32_t seq, uint32_t deviceMs, const int32_t* raw,
                   uint8_t channels, int16_t tempCentiC = kNoTemperature);
size_t writeIdentity(LineWriter& line, const char* serial, size_t serialLength,
                     const char* firmware, uint8_t channels, uint8_t rate);
size_t writePong(LineWriter& line, const char* token, size_t tokenLength);
size_t writeRateOk(LineWriter& line, uint8_t rate);
size_t writeSerialOk(LineWriter& line, const char* serial, size_t serialLength);
size_t writeError(LineWriter& line, Fault fault);

}  // namespace shelfsense

#endif
