#include "multicast/peer_wire.h"

#include <algorithm>
#include <string_view>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/shim.h"

namespace dmux::multicast {

PeerKey derive_peer_key(std::span<const std::byte> secret) noexcept {
  return crypto::derive_labelled_key(secret, "ipdmux-v2-mcast-peer");
}

std::string_view to_string(PeerParse p) noexcept {
  switch (p) {
    case PeerParse::kOk:
      return "ok";
    case PeerParse::kTruncated:
      return "truncated";
    case PeerParse::kMalformed:
      return "malformed";
    case PeerParse::kUnsupportedVersion:
      return "unsupported_version";
    case PeerParse::kUnexpectedType:
      return "unexpected_type";
    case PeerParse::kBadMac:
      return "bad_mac";
  }
  return "unknown";
}

PeerParse parse_peer_header(std::span<const std::byte> datagram, PeerHeader& out,
                            std::span<const std::byte>& body) noexcept {
  wire::ByteReader r(datagram);
  std::uint8_t version = 0, code = 0, hdr_len = 0, flags = 0;
  if (!r.read_u8(version)) return PeerParse::kTruncated;
  if (version != wire::kVersion) return PeerParse::kUnsupportedVersion;
  if (!r.read_u8(code) || !r.read_u8(hdr_len) || !r.read_u8(flags)) return PeerParse::kTruncated;
  const auto type = static_cast<wire::PeerType>(code);
  if (type != wire::PeerType::kSummary && type != wire::PeerType::kGroupData)
    return PeerParse::kUnexpectedType;
  const std::size_t fixed =
      type == wire::PeerType::kSummary ? kSummaryFixedLen : kGroupDataFixedLen;
  const std::size_t minimum = fixed + kPeerMacLen + (type == wire::PeerType::kGroupData ? 1 : 0);
  if (datagram.size() < minimum) return PeerParse::kTruncated;
  if (hdr_len != wire::kCommonHeaderLen) return PeerParse::kMalformed;
  PeerHeader h;
  h.type = type;
  std::uint16_t parts = 0;
  if (!r.read_u32(h.router_ipv4) || !r.read_u16(h.router_port) || !r.read_u16(parts) ||
      !r.read_id(h.provider_id) || !r.read_u64(h.seq) || !r.read_u64(h.sent_us)) {
    return PeerParse::kTruncated;  // cannot happen after the length check
  }
  h.part = static_cast<std::uint8_t>(parts >> 8);
  h.parts = static_cast<std::uint8_t>(parts & 0xff);
  const std::size_t covered = datagram.size() - kPeerMacLen;
  if (type == wire::PeerType::kSummary) {
    if (h.parts == 0 || h.parts > kMaxSummaryParts || h.part >= h.parts)
      return PeerParse::kMalformed;
  } else if (parts != 0) {
    return PeerParse::kMalformed;
  }
  if (h.router_ipv4 == 0 || h.router_port == 0 || h.provider_id == wire::ProviderId{0})
    return PeerParse::kMalformed;
  out = h;
  body = datagram.subspan(kPeerHeaderLen, covered - kPeerHeaderLen);
  return PeerParse::kOk;
}

bool peer_mac_ok(std::span<const std::byte> datagram, const PeerKey& key) noexcept {
  return crypto::trailing_mac_ok(datagram, key);
}

std::uint32_t SummaryEntry::group(std::size_t i) const noexcept {
  wire::ByteReader r(groups.subspan(std::min(groups.size(), i * 4)));
  std::uint32_t g = 0;
  return r.read_u32(g) ? g : 0;
}

PeerParse SummaryReader::init(std::span<const std::byte> body) noexcept {
  wire::ByteReader r(body);
  std::uint16_t reserved = 0;
  if (!r.read_u32(interval_ms_) || !r.read_u16(count_) || !r.read_u16(reserved))
    return PeerParse::kTruncated;
  entries_ = r.rest();
  pos_ = 0;
  read_ = 0;
  if (count_ > entries_.size() / kSummaryEntryLen) return PeerParse::kTruncated;
  for (std::uint16_t i = 0; i < count_; ++i) {
    std::uint32_t addr = 0, age = 0;
    std::uint16_t port = 0, groups = 0;
    std::uint64_t token = 0;
    if (!r.read_u32(addr) || !r.read_u16(port) || !r.read_u16(groups) || !r.read_u64(token) ||
        !r.read_u32(age) || !r.skip(std::size_t{groups} * 4u)) {
      return PeerParse::kTruncated;
    }
    if (addr == 0 || port == 0 || groups == 0) return PeerParse::kMalformed;
  }
  return r.remaining() == 0 ? PeerParse::kOk : PeerParse::kMalformed;
}

bool SummaryReader::next(SummaryEntry& out) noexcept {
  if (read_ >= count_) return false;
  wire::ByteReader r(entries_.subspan(pos_));
  if (!r.read_u32(out.client.ipv4) || !r.read_u16(out.client.port) ||
      !r.read_u16(out.group_count) || !r.read_u64(out.client.token) || !r.read_u32(out.age_ms) ||
      !r.read_bytes(std::size_t{out.group_count} * 4u, out.groups)) {
    read_ = count_;
    return false;
  }
  pos_ += r.position();
  ++read_;
  return true;
}

PeerParse parse_group_data(std::span<const std::byte> body, Member& origin,
                           std::span<const std::byte>& packet) noexcept {
  wire::ByteReader r(body);
  std::uint16_t reserved = 0;
  if (!r.read_u32(origin.ipv4) || !r.read_u16(origin.port) || !r.read_u16(reserved) ||
      !r.read_u64(origin.token)) {
    return PeerParse::kTruncated;
  }
  packet = r.rest();
  return packet.empty() ? PeerParse::kTruncated : PeerParse::kOk;
}

std::size_t write_peer_header(std::span<std::byte> out, const PeerHeader& h) noexcept {
  wire::ByteWriter w(out);
  w.u8(wire::kVersion);
  w.u8(wire::code(h.type));
  w.u8(static_cast<std::uint8_t>(wire::kCommonHeaderLen));
  w.u8(0);
  w.u32(h.router_ipv4);
  w.u16(h.router_port);
  w.u8(h.part);
  w.u8(h.parts);
  w.id(h.provider_id);
  w.u64(h.seq);
  w.u64(h.sent_us);
  return w.ok() ? w.size() : 0;
}

std::size_t seal(std::span<std::byte> out, std::size_t len, const PeerKey& key) noexcept {
  return crypto::seal_trailing_mac(out, len, key);
}

}  // namespace dmux::multicast
