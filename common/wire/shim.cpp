#include "common/wire/shim.h"

#include <algorithm>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/protocols.h"

namespace dmux::wire {
namespace {

struct Common {
  std::uint8_t version = 0;
  std::uint8_t type = 0;
  std::uint8_t hdr_len = 0;
  std::uint8_t flags = 0;
};

ParseStatus read_common(ByteReader& r, Common& c) noexcept {
  if (!r.read_u8(c.version)) return ParseStatus::kTruncated;
  if (c.version != kVersion) return ParseStatus::kUnsupportedVersion;
  if (!r.read_u8(c.type) || !r.read_u8(c.hdr_len) || !r.read_u8(c.flags)) {
    return ParseStatus::kTruncated;
  }
  return ParseStatus::kOk;
}

// Checks hdr_len against the fixed size of the type and the datagram, and that a payload follows.
ParseStatus check_lengths(std::size_t datagram_len, std::uint8_t hdr_len,
                          std::size_t fixed_len) noexcept {
  if (datagram_len < fixed_len) return ParseStatus::kTruncated;
  if (hdr_len < fixed_len || hdr_len % 4 != 0) return ParseStatus::kMalformed;
  if (hdr_len > datagram_len) return ParseStatus::kTruncated;
  if (hdr_len == datagram_len) return ParseStatus::kMalformed;  // no IPvN packet
  return ParseStatus::kOk;
}

void write_common(ByteWriter& w, MsgType type, std::size_t hdr_len, std::uint8_t flags) noexcept {
  w.u8(kVersion);
  w.u8(static_cast<std::uint8_t>(type));
  w.u8(static_cast<std::uint8_t>(hdr_len));
  w.u8(flags);
}

}  // namespace

std::string_view to_string(ParseStatus s) noexcept {
  switch (s) {
    case ParseStatus::kOk:
      return "ok";
    case ParseStatus::kTruncated:
      return "truncated";
    case ParseStatus::kMalformed:
      return "malformed";
    case ParseStatus::kUnsupportedVersion:
      return "unsupported_version";
    case ParseStatus::kUnexpectedType:
      return "unexpected_type";
  }
  return "unknown";
}

ParseStatus peek_type(std::span<const std::byte> datagram, MsgType& type) noexcept {
  ByteReader r(datagram);
  Common c;
  if (auto s = read_common(r, c); s != ParseStatus::kOk) return s;
  type = static_cast<MsgType>(c.type);
  return ParseStatus::kOk;
}

ParseStatus parse_shim(std::span<const std::byte> datagram, MsgType expected, ShimHeader& out,
                       std::span<const std::byte>& payload) noexcept {
  ByteReader r(datagram);
  Common c;
  if (auto s = read_common(r, c); s != ParseStatus::kOk) return s;
  if (c.type != static_cast<std::uint8_t>(expected)) return ParseStatus::kUnexpectedType;
  if (auto s = check_lengths(datagram.size(), c.hdr_len, kDataHeaderLen); s != ParseStatus::kOk) {
    return s;
  }
  ShimHeader h;
  h.flags = c.flags;
  std::uint16_t reserved = 0;
  if (!r.read_id(h.proto_id) || !r.read_u16(reserved) || !r.read_id(h.provider_id) ||
      !r.read_u64(h.token) || !r.skip(c.hdr_len - kDataHeaderLen)) {
    return ParseStatus::kTruncated;  // unreachable after check_lengths; kept for safety
  }
  if (!protocol_id_usable(h.proto_id)) return ParseStatus::kMalformed;
  out = h;
  payload = r.rest();
  return ParseStatus::kOk;
}

ParseStatus parse_tunnel(std::span<const std::byte> datagram, TunnelHeader& out,
                         std::span<const std::byte>& payload) noexcept {
  ByteReader r(datagram);
  Common c;
  if (auto s = read_common(r, c); s != ParseStatus::kOk) return s;
  if (c.type != static_cast<std::uint8_t>(MsgType::kTunnel)) return ParseStatus::kUnexpectedType;
  if (auto s = check_lengths(datagram.size(), c.hdr_len, kTunnelHeaderLen); s != ParseStatus::kOk) {
    return s;
  }
  TunnelHeader h;
  h.flags = c.flags;
  std::span<const std::byte> tag;
  if (!r.read_id(h.proto_id) || !r.read_u16(h.client_port) || !r.read_id(h.provider_id) ||
      !r.read_u32(h.client_ipv4) || !r.read_id(h.gateway_id) || !r.read_u64(h.token) ||
      !r.read_u32(h.key_id) || !r.read_u64(h.counter) || !r.read_bytes(kTunnelTagLen, tag) ||
      !r.skip(c.hdr_len - kTunnelHeaderLen)) {
    return ParseStatus::kTruncated;
  }
  std::copy(tag.begin(), tag.end(), h.tag.begin());
  if (!protocol_id_usable(h.proto_id)) return ParseStatus::kMalformed;
  out = h;
  payload = r.rest();
  return ParseStatus::kOk;
}

std::size_t write_shim(std::span<std::byte> out, MsgType type, const ShimHeader& h) noexcept {
  ByteWriter w(out);
  write_common(w, type, kDataHeaderLen, h.flags);
  w.id(h.proto_id);
  w.u16(0);
  w.id(h.provider_id);
  w.u64(h.token);
  return w.ok() ? w.size() : 0;
}

std::size_t write_tunnel(std::span<std::byte> out, const TunnelHeader& h) noexcept {
  ByteWriter w(out);
  write_common(w, MsgType::kTunnel, kTunnelHeaderLen, h.flags);
  w.id(h.proto_id);
  w.u16(h.client_port);
  w.id(h.provider_id);
  w.u32(h.client_ipv4);
  w.id(h.gateway_id);
  w.u64(h.token);
  w.u32(h.key_id);
  w.u64(h.counter);
  w.zeros(kTunnelTagLen);
  return w.ok() ? w.size() : 0;
}

}  // namespace dmux::wire
