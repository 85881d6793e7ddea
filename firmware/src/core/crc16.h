// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.
// Every line both ways carries it as `*XXXX`; the check value of "123456789" is 0x29B1.
#ifndef SHELFSENSE_CORE_CRC16_H
#define SHELFSENSE_CORE_CRC16_H

#include <stddef.h>
#include <stdint.h>

namespace shelfsense {

const uint16_t kCrc16Init = 0xFFFF;

uint16_t crc16Update(uint16_t crc, uint8_t byte);
uint16_t crc16(const char* data, size_t length);

}  // namespace shelfsense

#endif
