// The shelf's serial number: a RAM copy of the EEPROM record (eeprom_layout.h) and a write that
// proceeds one byte per loop, so sampling never stops for the ~125 ms a full AVR record takes.
#ifndef SHELFSENSE_CORE_SERIAL_STORE_H
#define SHELFSENSE_CORE_SERIAL_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "eeprom_layout.h"
#include "hal.h"

namespace shelfsense {

class SerialStore {
 public:
  explicit SerialStore(ByteEeprom& eeprom);

  // Reads the record; true when it is valid. Otherwise the store holds no serial.
  bool load();

  bool valid() const { return valid_; }
  bool locked() const;
  const char* serial() const;
  uint8_t serialLength() const;

  // Takes `serial` (a valid serial number, see isValidSerial) at once and starts writing it:
  // unlocked for a generated one, locked for one set by SERIAL.
  void store(const char* serial, size_t length, bool lock);

  // Moves the write on by at most one byte; call once per loop.
  void poll();
  bool writing() const;

 private:
  // Step 0 clears the magic so that a power cut mid-write leaves no record (a new serial is
  // generated at boot) rather than a mix of old and new bytes; steps 1..36 write the record;
  // the last step writes the magic back.
  static const uint8_t kSteps = eeprom_layout::kRecordSize + 1;
  // After the last step: the flash page (if any) is still to be committed, then nothing to do.
  static const uint8_t kCommitDue = kSteps;
  static const uint8_t kIdle = kSteps + 1;
  uint8_t stepAddress(uint8_t step) const;
  uint8_t stepValue(uint8_t step) const;

  ByteEeprom& eeprom_;
  uint8_t record_[eeprom_layout::kRecordSize];
  uint8_t step_;
  bool valid_;
};

}  // namespace shelfsense

#endif
