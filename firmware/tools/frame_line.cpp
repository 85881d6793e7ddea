// Prints `BODY*XXXX` for each BODY argument, checksummed by the firmware's own LineWriter: the
// line a technician types into a serial terminal (`make frame-line BODY='SERIAL,SHELF-0042'`).
#include <stdio.h>
#include <string.h>

#include "../src/core/frame_writer.h"
#include "../src/core/protocol.h"

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: frame-line BODY...\n");
    return 2;
  }
  for (int i = 1; i < argc; ++i) {
    const char* body = argv[i];
    for (const char* p = body; *p != '\0'; ++p) {
      if (*p < 0x20 || *p > 0x7E || *p == '*') {
        fprintf(stderr, "frame-line: BODY holds '*' or a byte outside printable ASCII: %s\n", body);
        return 2;
      }
    }
    char line[shelfsense::kMaxLineLength + 1];
    shelfsense::LineWriter writer(line, sizeof line);
    const size_t length = writer.put(body).finish();
    if (length == 0) {
      fprintf(stderr, "frame-line: the line would exceed %u characters\n",
              static_cast<unsigned>(shelfsense::kMaxLineLength));
      return 2;
    }
    fwrite(line, 1, length, stdout);
  }
  return 0;
}
