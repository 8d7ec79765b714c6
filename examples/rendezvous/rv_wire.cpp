#include "rv_wire.h"

#include <algorithm>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"

namespace rendezvous {

using dmux::wire::ByteReader;
using dmux::wire::ByteWriter;

std::string_view to_string(Parse p) noexcept {
  switch (p) {
    case Parse::kOk:
      return "ok";
    case Parse::kTruncated:
      return "truncated";
    case Parse::kMalformed:
      return "malformed";
    case Parse::kUnsupportedVersion:
      return "unsupported_version";
    case Parse::kUnknownType:
      return "unknown_type";
  }
  return "unknown";
}

namespace {

bool read_id(ByteReader& r, Id& id) noexcept {
  std::span<const std::byte> b;
  if (!r.read_bytes(kIdLen, b)) return false;
  std::copy(b.begin(), b.end(), id.begin());
  return true;
}

}  // namespace

Parse parse_message(std::span<const std::byte> payload, Message& out) noexcept {
  ByteReader r(payload);
  std::uint8_t version = 0, type = 0;
  std::uint16_t reserved = 0;
  if (!r.read_u8(version)) return Parse::kTruncated;
  if (version != kVersion) return Parse::kUnsupportedVersion;
  if (!r.read_u8(type) || !r.read_u16(reserved)) return Parse::kTruncated;
  Message m;
  m.type = static_cast<Type>(type);
  switch (m.type) {
    case Type::kInsert:
    case Type::kRemove:
    case Type::kAck:
      if (payload.size() < kControlLen) return Parse::kTruncated;
      if (payload.size() > kControlLen) return Parse::kMalformed;
      break;
    case Type::kSend:
    case Type::kDeliver:
      if (payload.size() < kHeaderLen) return Parse::kTruncated;
      if (payload.size() > kHeaderLen + kMaxData) return Parse::kMalformed;
      break;
    default:
      return Parse::kUnknownType;  // kTriggers included: never from a client
  }
  if (!read_id(r, m.id)) return Parse::kTruncated;  // cannot happen after the length check
  if (m.type == Type::kSend || m.type == Type::kDeliver) {
    m.data = r.rest();
  } else {
    std::uint8_t status = 0, pad = 0;
    std::uint16_t lifetime = 0;
    if (!r.read_u8(status) || !r.read_u8(pad) || !r.read_u16(lifetime)) return Parse::kTruncated;
    if (m.type == Type::kInsert && lifetime == 0) return Parse::kMalformed;
    if (m.type == Type::kAck && status > static_cast<std::uint8_t>(AckStatus::kRefused)) {
      return Parse::kMalformed;
    }
    m.status = static_cast<AckStatus>(m.type == Type::kAck ? status : 0);
    m.lifetime_s = lifetime;
  }
  out = m;
  return Parse::kOk;
}

std::size_t write_message(std::span<std::byte> out, const Message& m) noexcept {
  const bool with_data = m.type == Type::kSend || m.type == Type::kDeliver;
  if (with_data && m.data.size() > kMaxData) return 0;
  const std::size_t len = with_data ? kHeaderLen + m.data.size() : kControlLen;
  if (out.size() < len) return 0;
  ByteWriter w(out);
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(m.type));
  w.u16(0);
  w.bytes(m.id);
  if (with_data) {
    w.bytes(m.data);
  } else {
    w.u8(m.type == Type::kAck ? static_cast<std::uint8_t>(m.status) : 0);
    w.u8(0);
    w.u16(m.lifetime_s);
  }
  return w.ok() ? len : 0;
}

Parse TriggersReader::init(std::span<const std::byte> payload) noexcept {
  ByteReader r(payload);
  std::uint8_t version = 0, type = 0;
  if (!r.read_u8(version)) return Parse::kTruncated;
  if (version != kVersion) return Parse::kUnsupportedVersion;
  if (!r.read_u8(type) || !r.read_u16(count_)) return Parse::kTruncated;
  if (type != static_cast<std::uint8_t>(Type::kTriggers)) return Parse::kUnknownType;
  if (count_ == 0 || count_ > kMaxEntries) return Parse::kMalformed;
  const std::size_t need = static_cast<std::size_t>(count_) * kEntryLen;
  if (r.remaining() < need) return Parse::kTruncated;
  if (r.remaining() > need) return Parse::kMalformed;
  entries_ = r.rest();
  read_ = 0;
  return Parse::kOk;
}

bool TriggersReader::next(TriggerEntry& out) noexcept {
  if (read_ >= count_) return false;
  ByteReader r(entries_.subspan(static_cast<std::size_t>(read_) * kEntryLen, kEntryLen));
  std::uint16_t reserved = 0;
  TriggerEntry e;
  if (!read_id(r, e.id) || !r.read_u32(e.client_ipv4) || !r.read_u16(e.client_port) ||
      !r.read_u16(reserved) || !r.read_u64(e.token) || !r.read_u32(e.remaining_ms)) {
    return false;  // cannot happen after init()
  }
  ++read_;
  out = e;
  return true;
}

std::size_t write_triggers_header(std::span<std::byte> out, std::uint16_t count) noexcept {
  if (out.size() < 4) return 0;
  ByteWriter w(out);
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(Type::kTriggers));
  w.u16(count);
  return w.ok() ? 4 : 0;
}

std::size_t write_trigger_entry(std::span<std::byte> out, const TriggerEntry& e) noexcept {
  if (out.size() < kEntryLen) return 0;
  ByteWriter w(out);
  w.bytes(e.id);
  w.u32(e.client_ipv4);
  w.u16(e.client_port);
  w.u16(0);
  w.u64(e.token);
  w.u32(e.remaining_ms);
  return w.ok() ? kEntryLen : 0;
}

}  // namespace rendezvous
