#include "shelf.h"

#include "commands.h"
#include "frame_writer.h"
#include "serial_number.h"

namespace shelfsense {

Shelf::Shelf(Board& board, Sensor& sensor, ByteEeprom& eeprom, const ShelfSettings& settings,
             Thermometer* thermometer)
    : board_(board),
      sensor_(sensor),
      thermometer_(thermometer),
      nextTempMs_(0),
      pendingTemp_(kNoTemperature),
      store_(eeprom),
      sampler_(sensor, settings.channels, settings.defaultRate),
      firmware_(settings.firmware),
      channels_(settings.channels),
      replyLength_(0) {}

void Shelf::begin() {
  sampler_.begin(board_.millis());
  if (!store_.load()) makeSerial();
  LineWriter line(reply_, sizeof reply_);
  replyLength_ = writeIdentity(line, store_.serial(), store_.serialLength(), firmware_, channels_,
                               sampler_.rate());
  flushReply();
  // The first reading a period after boot: a DS18B20 needs 750 ms for its first conversion.
  nextTempMs_ = board_.millis() + kTempPeriodMs;
}

void Shelf::makeSerial() {
  char serial[kGeneratedSerialCapacity];
  uint8_t id[kMaxUniqueIdBytes];
  const size_t idLength = board_.uniqueId(id, sizeof id);
  size_t length;
  if (idLength > 0) {
    length = formatUniqueIdSerial(id, idLength, serial);
  } else {
    EntropyPool pool;
    pool.mix(board_.entropy());
    // The first conversion after the reset comes one period later; 4 periods (50 ms at 80 SPS,
    // 400 ms at 10 SPS) leave room for slow chips without holding up a shelf with a dead one.
    const uint32_t waitMs = 4000u / sampler_.rate();
    const uint8_t all = static_cast<uint8_t>((1u << channels_) - 1u);
    const uint32_t start = board_.millis();
    uint8_t ready;
    while ((ready = sensor_.readyMask()) != all && board_.millis() - start < waitMs) {
      board_.kickWatchdog();
    }
    if (ready != 0) {
      // Settling-time conversion: worthless as a sample, but its low bits are analogue noise.
      int32_t raw[kMaxChannels];
      sensor_.read(raw);
      for (uint8_t c = 0; c < channels_; ++c) pool.mix(static_cast<uint32_t>(raw[c]));
    }
    // The wait ended on the chips' own RC oscillator: the timer read now carries its jitter.
    pool.mix(board_.entropy());
    length = formatEntropySerial(pool.value(), serial);
  }
  store_.store(serial, length, false);
}

void Shelf::poll() {
  board_.kickWatchdog();
  store_.poll();
  readCommands();
  const uint32_t now = board_.millis();
  if (thermometer_ != nullptr) readThermometer(now);
  if (sampler_.poll(now, frame_)) send(frame_);
}

void Shelf::readThermometer(uint32_t now) {
  // Signed difference: right across millis()' wrap after 49.7 days.
  if (static_cast<int32_t>(now - nextTempMs_) < 0) return;
  // From now, not from the due time: a stalled loop reads once, not a burst of catch-ups.
  nextTempMs_ = now + kTempPeriodMs;
  const int16_t t = thermometer_->readCentiC();
  pendingTemp_ = validTemperature(t) ? t : kNoTemperature;
}

void Shelf::readCommands() {
  // One reply at a time: while it waits, later lines wait unread in the UART's buffer.
  while (flushReply()) {
    const int byte = board_.readByte();
    if (byte < 0) return;
    if (receiver_.feed(static_cast<uint8_t>(byte))) answer();
  }
}

void Shelf::answer() {
  LineWriter line(reply_, sizeof reply_);
  if (receiver_.fault() != Fault::kNone) {
    replyLength_ = writeError(line, receiver_.fault());
    return;
  }
  const Command cmd = parseCommand(receiver_.body(), receiver_.bodyLength());
  if (cmd.fault != Fault::kNone) {
    replyLength_ = writeError(line, cmd.fault);
    return;
  }
  switch (cmd.kind) {
    case CommandKind::kIdentify:
      replyLength_ = writeIdentity(line, store_.serial(), store_.serialLength(), firmware_,
                                   channels_, sampler_.rate());
      break;
    case CommandKind::kRate:
      sampler_.setRate(cmd.rate, board_.millis());
      replyLength_ = writeRateOk(line, cmd.rate);
      break;
    case CommandKind::kPing:
      replyLength_ = writePong(line, cmd.arg, cmd.argLength);
      break;
    case CommandKind::kSerial:
      if (store_.locked()) {
        replyLength_ = writeError(line, Fault::kSerialLocked);
      } else {
        // The reply is due within 50 ms, the EEPROM write takes ~125 ms on an AVR: the new
        // serial answers ID at once and reaches the EEPROM over the next loops.
        store_.store(cmd.arg, cmd.argLength, true);
        replyLength_ = writeSerialOk(line, cmd.arg, cmd.argLength);
      }
      break;
  }
}

// Sends the waiting reply if it fits whole; true when no reply is waiting any more.
bool Shelf::flushReply() {
  if (replyLength_ == 0) return true;
  if (board_.writable() < replyLength_) return false;
  board_.write(reply_, replyLength_);
  replyLength_ = 0;
  return true;
}

void Shelf::send(const Frame& frame) {
  LineWriter line(line_, sizeof line_);
  const size_t length =
      writeSample(line, frame.seq, frame.deviceMs, frame.raw, channels_, pendingTemp_);
  // A reading goes out once: on a dropped frame it is lost, and the next comes a period later.
  pendingTemp_ = kNoTemperature;
  // Replies first; a frame that does not fit whole is dropped and its seq stays consumed.
  if (!flushReply() || board_.writable() < length) return;
  board_.write(line_, length);
}

}  // namespace shelfsense
