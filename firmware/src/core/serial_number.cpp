#include "serial_number.h"

namespace shelfsense {

namespace {

const char kHex[] = "0123456789ABCDEF";

// The 32-bit finaliser of MurmurHash3: every input bit affects every output bit.
uint32_t avalanche(uint32_t h) {
  h ^= h >> 16;
  h *= 0x85EBCA6Bu;
  h ^= h >> 13;
  h *= 0xC2B2AE35u;
  h ^= h >> 16;
  return h;
}

size_t putPrefix(char* out) {
  out[0] = 'S';
  out[1] = 'S';
  out[2] = '-';
  return 3;
}

}  // namespace

void EntropyPool::mix(uint32_t word) { state_ = avalanche(state_ ^ word) + 0x9E3779B9u; }

uint32_t EntropyPool::value() const { return avalanche(state_); }

size_t formatEntropySerial(uint32_t entropy, char* out) {
  size_t n = putPrefix(out);
  for (int shift = 28; shift >= 0; shift -= 4) out[n++] = kHex[(entropy >> shift) & 0xF];
  return n;
}

size_t formatUniqueIdSerial(const uint8_t* id, size_t length, char* out) {
  size_t n = putPrefix(out);
  if (length > kMaxUniqueIdBytes) length = kMaxUniqueIdBytes;
  for (size_t i = 0; i < length; ++i) {
    out[n++] = kHex[id[i] >> 4];
    out[n++] = kHex[id[i] & 0xF];
  }
  return n;
}

}  // namespace shelfsense
