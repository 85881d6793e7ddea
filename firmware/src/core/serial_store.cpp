#include "serial_store.h"

#include "commands.h"

namespace shelfsense {

namespace layout = eeprom_layout;

namespace {

bool isValidRecord(const uint8_t* record) {
  if (record[0] != layout::kMagic0 || record[1] != layout::kMagic1) return false;
  const uint8_t length = record[layout::kLengthAt];
  if (length < 1 || length > layout::kSerialCapacity) return false;
  if (!isValidSerial(reinterpret_cast<const char*>(record + layout::kSerialAt), length)) return false;
  for (uint8_t i = layout::kSerialAt + length; i < layout::kCheckAt; ++i) {
    if (record[i] != layout::kUnused) return false;
  }
  return record[layout::kCheckAt] == layout::checkOf(record);
}

}  // namespace

SerialStore::SerialStore(ByteEeprom& eeprom) : eeprom_(eeprom), step_(kIdle), valid_(false) {
  for (uint8_t i = 0; i < layout::kRecordSize; ++i) record_[i] = layout::kUnused;
}

bool SerialStore::load() {
  for (uint8_t i = 0; i < layout::kRecordSize; ++i) record_[i] = eeprom_.read(layout::kBase + i);
  valid_ = isValidRecord(record_);
  return valid_;
}

bool SerialStore::locked() const {
  return valid_ && (record_[layout::kFlagsAt] & layout::kFlagLocked) != 0;
}

const char* SerialStore::serial() const {
  return reinterpret_cast<const char*>(record_ + layout::kSerialAt);
}

uint8_t SerialStore::serialLength() const { return valid_ ? record_[layout::kLengthAt] : 0; }

void SerialStore::store(const char* serial, size_t length, bool lock) {
  record_[0] = layout::kMagic0;
  record_[1] = layout::kMagic1;
  record_[layout::kFlagsAt] = lock ? layout::kFlagLocked : 0;
  record_[layout::kLengthAt] = static_cast<uint8_t>(length);
  for (uint8_t i = 0; i < layout::kSerialCapacity; ++i) {
    record_[layout::kSerialAt + i] = i < length ? static_cast<uint8_t>(serial[i]) : layout::kUnused;
  }
  record_[layout::kCheckAt] = layout::checkOf(record_);
  valid_ = true;
  step_ = 0;
}

bool SerialStore::writing() const { return step_ != kIdle; }

uint8_t SerialStore::stepAddress(uint8_t step) const {
  return step == kSteps - 1 ? 0 : step;
}

uint8_t SerialStore::stepValue(uint8_t step) const {
  if (step == 0) return layout::kUnused;
  return record_[stepAddress(step)];
}

void SerialStore::poll() {
  while (step_ < kSteps) {
    // Reading waits for a write in progress on AVR, so nothing is touched until it is done.
    if (!eeprom_.ready()) return;
    const uint16_t address = static_cast<uint16_t>(layout::kBase + stepAddress(step_));
    const uint8_t value = stepValue(step_);
    ++step_;
    if (eeprom_.read(address) != value) {
      eeprom_.write(address, value);  // bytes already right are skipped: EEPROM wears per write
      return;
    }
  }
  if (step_ == kCommitDue) {
    eeprom_.commit();
    step_ = kIdle;
  }
}

}  // namespace shelfsense
