#include "client-capture/capture_path.h"

#include <algorithm>

#include "client-capture/checksum_fixup.h"
#include "client-capture/tcp_segmenter.h"
#include "common/wire/byte_reader.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

Drop drop_for(wire::ParseStatus s) noexcept {
  switch (s) {
    case wire::ParseStatus::kTruncated: return Drop::kTruncated;
    case wire::ParseStatus::kUnsupportedVersion: return Drop::kUnsupportedVersion;
    case wire::ParseStatus::kUnexpectedType: return Drop::kUnexpectedType;
    case wire::ParseStatus::kMalformed:
    case wire::ParseStatus::kOk: break;
  }
  return Drop::kMalformed;
}

bool equal16(std::span<const std::byte> a, const Ipv6Address& b) noexcept {
  return a.size() >= 16 && std::equal(b.begin(), b.end(), a.begin());
}

}  // namespace

bool whole_ipv4_packet(std::span<const std::byte> packet) noexcept {
  wire::ByteReader r(packet);
  std::uint8_t vihl = 0, tos = 0;
  std::uint16_t total = 0;
  if (!r.read_u8(vihl) || !r.read_u8(tos) || !r.read_u16(total)) return false;
  return (vihl >> 4) == 4 && (vihl & 0x0f) >= 5 && total == packet.size() &&
         total >= (vihl & 0x0f) * 4u;
}

bool whole_ipv6_packet(std::span<const std::byte> packet) noexcept {
  wire::ByteReader r(packet);
  std::uint32_t vtf = 0;
  std::uint16_t payload_len = 0;
  if (!r.read_u32(vtf) || !r.read_u16(payload_len)) return false;
  return (vtf >> 28) == 6 && packet.size() >= 40 && packet.size() == 40u + payload_len;
}

CapturePath::CapturePath(CapturePathConfig config, std::uint64_t token) noexcept
    : config_(std::move(config)), token_(token) {
  captures_ipv6_ = captures(wire::kProtoIpv6);
}

bool CapturePath::captures(std::uint16_t proto_id) const noexcept {
  return std::any_of(config_.selectors.begin(), config_.selectors.end(),
                     [proto_id](const Selector& s) { return s.proto_id == proto_id; });
}

CapturePath::CaptureKind CapturePath::on_captured(std::uint16_t queue, std::span<std::byte> packet,
                              bool checksum_not_ready,
                              std::span<std::byte, wire::kDataHeaderLen> header) noexcept {
  ++counters_.captured;
  counters_.captured_bytes += packet.size();
  const std::size_t index = static_cast<std::uint16_t>(queue - config_.first_queue);
  if (queue < config_.first_queue || index >= config_.selectors.size()) {
    counters_.drop(Drop::kUnknownQueue);
    return CaptureKind::kDrop;
  }
  const Selector& s = config_.selectors[index];
  const bool segment = packet.size() > config_.max_packet;
  if (segment && (s.kind != Selector::Kind::kIpv6 || !is_tcp6(packet))) {
    counters_.drop(Drop::kOversize);
    return CaptureKind::kDrop;
  }
  if (s.kind == Selector::Kind::kIpv6) {
    if (!whole_ipv6_packet(packet)) {
      counters_.drop(Drop::kBadPacket);
      return CaptureKind::kDrop;
    }
    if (!address_) {
      counters_.drop(Drop::kNoAddress);
      return CaptureKind::kDrop;
    }
    if (!equal16(packet.subspan(8, 16), *address_)) {
      counters_.drop(Drop::kStaleSource);
      return CaptureKind::kDrop;
    }
  } else if (!whole_ipv4_packet(packet)) {
    counters_.drop(Drop::kBadPacket);
    return CaptureKind::kDrop;
  }
  // A super-packet's segments get their checksums when cut.
  if (!segment && checksum_not_ready && finish_checksum(packet)) ++counters_.checksums_finished;
  const wire::ShimHeader h{
      .flags = 0, .proto_id = s.proto_id, .provider_id = s.provider_id, .token = token_};
  if (wire::write_shim(header, wire::MsgType::kData, h) != wire::kDataHeaderLen) {
    counters_.drop(Drop::kSendFailed);  // cannot happen: the header span has the right size
    return CaptureKind::kDrop;
  }
  if (segment) ++counters_.segmented;
  return segment ? CaptureKind::kSegment : CaptureKind::kSend;
}

CapturePath::ReturnKind CapturePath::on_return(std::span<const std::byte> datagram,
                                               std::span<const std::byte>& packet,
                                               Offer& offer) noexcept {
  ++counters_.returns;
  wire::ShimHeader h;
  if (const auto s = wire::parse_shim(datagram, wire::MsgType::kReturn, h, packet);
      s != wire::ParseStatus::kOk) {
    counters_.drop(drop_for(s));
    return ReturnKind::kDrop;
  }
  // The token is the only proof a RETURN answers us. Compare without an early exit.
  if ((h.token ^ token_) != 0) {
    counters_.drop(Drop::kBadToken);
    return ReturnKind::kDrop;
  }
  if (h.proto_id == wire::kProtoIpv6 && captures_ipv6_) return on_return_ipv6(packet, offer);
  if (h.proto_id == wire::kProtoIpv6 || !captures(h.proto_id)) {
    counters_.drop(Drop::kUnknownProtocol);
    return ReturnKind::kDrop;
  }
  if (!whole_ipv4_packet(packet)) {
    counters_.drop(Drop::kBadReturnPacket);
    return ReturnKind::kDrop;
  }
  return ReturnKind::kInject;
}

CapturePath::ReturnKind CapturePath::on_return_ipv6(std::span<const std::byte> packet,
                                                    Offer& offer) noexcept {
  if (!whole_ipv6_packet(packet)) {
    counters_.drop(Drop::kBadReturnPacket);
    return ReturnKind::kDrop;
  }
  if (is_router_advert(packet)) {
    if (!parse_router_advert(packet, offer)) {
      counters_.drop(Drop::kBadAdvert);
      return ReturnKind::kDrop;
    }
    ++counters_.adverts;
    return ReturnKind::kAdvert;
  }
  if (!address_ || !equal16(packet.subspan(24, 16), *address_)) {
    counters_.drop(Drop::kNotForUs);
    return ReturnKind::kDrop;
  }
  return ReturnKind::kInject;
}

void CapturePath::tunnelled(std::size_t packet_bytes) noexcept {
  ++counters_.tunnelled;
  counters_.tunnelled_bytes += packet_bytes;
}

void CapturePath::injected(std::size_t packet_bytes) noexcept {
  ++counters_.injected;
  counters_.injected_bytes += packet_bytes;
}

}  // namespace dmux::client
