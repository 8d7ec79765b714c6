#include "sdk/peer_wire.h"

#include <algorithm>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/protocols.h"
#include "common/wire/shim.h"

namespace dmux::sdk {

PeerKey derive_peer_key(std::span<const std::byte> secret) noexcept {
  return crypto::derive_labelled_key(secret, "ipdmux-v2-sdk-peer");
}

std::string_view to_string(PeerParse p) noexcept {
  switch (p) {
    case PeerParse::kOk:
      return "ok";
    case PeerParse::kTruncated:
      return "peer_truncated";
    case PeerParse::kMalformed:
      return "peer_malformed";
    case PeerParse::kUnsupportedVersion:
      return "peer_unsupported_version";
    case PeerParse::kUnexpectedType:
      return "peer_unexpected_type";
  }
  return "unknown";
}

PeerParse parse_peer_message(std::span<const std::byte> datagram, PeerHeader& out,
                             std::span<const std::byte>& payload) noexcept {
  wire::ByteReader r(datagram);
  std::uint8_t version = 0, type = 0, hdr_len = 0, flags = 0;
  if (!r.read_u8(version)) return PeerParse::kTruncated;
  if (version != wire::kVersion) return PeerParse::kUnsupportedVersion;
  if (!r.read_u8(type) || !r.read_u8(hdr_len) || !r.read_u8(flags)) return PeerParse::kTruncated;
  if (type != wire::code(wire::PeerType::kRouterPeer)) return PeerParse::kUnexpectedType;
  if (datagram.size() < kPeerHeaderLen + kPeerMacLen) return PeerParse::kTruncated;
  if (datagram.size() > kMaxPeerMessage) return PeerParse::kMalformed;
  if (hdr_len != wire::kCommonHeaderLen) return PeerParse::kMalformed;
  PeerHeader h;
  if (!r.read_u32(h.router_ipv4) || !r.read_u16(h.router_port) || !r.read_id(h.proto_id) ||
      !r.read_id(h.provider_id) || !r.read_u64(h.seq) || !r.read_u64(h.sent_us)) {
    return PeerParse::kTruncated;  // cannot happen after the length check
  }
  if (h.router_ipv4 == 0 || h.router_port == 0 || h.provider_id == dmux::wire::ProviderId{0} ||
      !dmux::wire::protocol_id_usable(h.proto_id)) {
    return PeerParse::kMalformed;
  }
  out = h;
  payload = datagram.subspan(kPeerHeaderLen, datagram.size() - kPeerHeaderLen - kPeerMacLen);
  return PeerParse::kOk;
}

bool peer_mac_ok(std::span<const std::byte> datagram, const PeerKey& key) noexcept {
  return crypto::trailing_mac_ok(datagram, key);
}

std::size_t write_peer_message(std::span<std::byte> out, const PeerHeader& h,
                               std::span<const std::byte> payload, const PeerKey& key) noexcept {
  const std::size_t len = kPeerHeaderLen + payload.size() + kPeerMacLen;
  if (payload.size() > kMaxPeerPayload || out.size() < len) return 0;
  wire::ByteWriter w(out);
  w.u8(wire::kVersion);
  w.u8(wire::code(wire::PeerType::kRouterPeer));
  w.u8(static_cast<std::uint8_t>(wire::kCommonHeaderLen));
  w.u8(0);
  w.u32(h.router_ipv4);
  w.u16(h.router_port);
  w.id(h.proto_id);
  w.id(h.provider_id);
  w.u64(h.seq);
  w.u64(h.sent_us);
  w.bytes(payload);
  return w.ok() ? crypto::seal_trailing_mac(out, w.size(), key) : 0;
}

}  // namespace dmux::sdk
