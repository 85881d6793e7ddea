#include "fakes.h"

#include <cstdio>

#include "../src/core/crc16.h"

namespace fakes {

std::vector<Line> splitLines(const std::string& sent) {
  std::vector<Line> lines;
  size_t start = 0;
  for (size_t end = sent.find('\n'); end != std::string::npos; end = sent.find('\n', start)) {
    Line line;
    line.text = sent.substr(start, end - start);
    start = end + 1;
    const size_t star = line.text.rfind('*');
    if (star != std::string::npos && star + 5 == line.text.size()) {
      char hex[5];
      const uint16_t crc = shelfsense::crc16(line.text.data(), star);
      std::snprintf(hex, sizeof hex, "%04X", crc);
      line.crcOk = line.text.compare(star + 1, 4, hex) == 0;
      const std::string body = line.text.substr(0, star);
      size_t from = 0;
      for (size_t comma = body.find(','); comma != std::string::npos; comma = body.find(',', from)) {
        line.fields.push_back(body.substr(from, comma - from));
        from = comma + 1;
      }
      line.fields.push_back(body.substr(from));
    }
    lines.push_back(line);
  }
  return lines;
}

}  // namespace fakes
