#include "client/capture_path.h"

#include <algorithm>

#include "client/selector.h"
#include "common/wire/client_control.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

Drop drop_for(wire::ParseStatus s) noexcept {
  switch (s) {
    case wire::ParseStatus::kTruncated:
      return Drop::kTruncated;
    case wire::ParseStatus::kUnsupportedVersion:
      return Drop::kUnsupportedVersion;
    case wire::ParseStatus::kUnexpectedType:
      return Drop::kUnexpectedType;
    case wire::ParseStatus::kMalformed:
    case wire::ParseStatus::kOk:
      break;
  }
  return Drop::kMalformed;
}

bool equal16(std::span<const std::byte> a, const Ipv6Address& b) noexcept {
  return a.size() >= 16 && std::equal(b.begin(), b.end(), a.begin());
}

}  // namespace

CapturePath::CapturePath(CapturePathConfig config, ReturnTokens& tokens) noexcept
    : config_(std::move(config)), tokens_(tokens) {}

const Selector* CapturePath::selector_of(std::uint16_t proto_id) const noexcept {
  for (const Selector& s : config_.selectors) {
    if (s.proto_id == proto_id) return &s;
  }
  return nullptr;
}

const Selector* CapturePath::classify(std::span<const std::byte> packet) const noexcept {
  if (packet.empty()) return nullptr;
  const auto version = std::to_integer<unsigned>(packet[0]) >> 4;
  Selector::Kind kind = Selector::Kind::kGeneric;
  std::uint8_t protocol = 0;
  if (version == 6) {
    if (packet.size() < 40) return nullptr;
    const auto d0 = std::to_integer<unsigned>(packet[24]);
    const auto d1 = std::to_integer<unsigned>(packet[25]);
    if (d0 == 0xfe && (d1 & 0xc0) == 0x80) return nullptr;  // fe80::/10
    if (d0 == 0xff && (d1 & 0x0f) <= 2) return nullptr;     // interface- and link-scope multicast
    kind = Selector::Kind::kIpv6;
  } else if (version == 4) {
    if (packet.size() < 20) return nullptr;
    if ((std::to_integer<unsigned>(packet[16]) & 0xf0) == 0xe0)
      kind = Selector::Kind::kIpv4Multicast;
    protocol = std::to_integer<std::uint8_t>(packet[9]);
  } else {
    return nullptr;
  }
  for (const Selector& s : config_.selectors) {
    if (s.kind != kind) continue;
    if (kind != Selector::Kind::kGeneric || may_select(s, protocol)) return &s;
  }
  return nullptr;
}

CapturePath::CaptureKind CapturePath::on_captured(
    std::span<const std::byte> packet, std::span<std::byte, wire::kDataHeaderLen> header) noexcept {
  ++counters_.captured;
  counters_.captured_bytes += packet.size();
  const Selector* sel = classify(packet);
  if (sel == nullptr) {
    counters_.drop(Drop::kUnselected);
    return CaptureKind::kDrop;
  }
  const Selector& s = *sel;
  const std::optional<std::uint64_t> token = tokens_.current(s.proto_id);
  if (!token) {
    counters_.drop(Drop::kNoToken);
    return CaptureKind::kDrop;
  }
  if (packet.size() > config_.max_packet) {
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
  const wire::ShimHeader h{.flags = 0,
                           .proto_id = wire::ProtoId{s.proto_id},
                           .provider_id = wire::ProviderId{s.provider_id},
                           .token = *token};
  if (wire::write_shim(header, wire::MsgType::kData, h) != wire::kDataHeaderLen) {
    counters_.drop(Drop::kSendFailed);  // cannot happen: the header span has the right size
    return CaptureKind::kDrop;
  }
  return CaptureKind::kSend;
}

CapturePath::ReturnKind CapturePath::drop(Drop reason) noexcept {
  counters_.drop(reason);
  return ReturnKind::kDrop;
}

CapturePath::ReturnKind CapturePath::on_return(std::span<const std::byte> datagram,
                                               Clock::time_point now, ReturnResult& out) noexcept {
  ++counters_.returns;
  wire::ShimHeader h;
  std::span<const std::byte> payload;
  if (const auto s = wire::parse_shim(datagram, wire::MsgType::kReturn, h, payload);
      s != wire::ParseStatus::kOk) {
    return drop(drop_for(s));
  }
  const Selector* s = selector_of(h.proto_id.value());
  if (s == nullptr) return drop(Drop::kUnknownProtocol);
  if ((h.flags & wire::kFlagControl) != 0) return on_control(h, payload, now, out);
  // The token is the proof a RETURN comes from our provider; nothing else is looked at before.
  if (!tokens_.accepts(h.proto_id.value(), h.token)) return drop(Drop::kBadToken);
  return on_packet(*s, payload, out);
}

CapturePath::ReturnKind CapturePath::on_control(const wire::ShimHeader& h,
                                                std::span<const std::byte> payload,
                                                Clock::time_point now, ReturnResult& out) noexcept {
  // A control RETURN is only ever a TOKEN_OFFER answering a request of ours.
  if (!tokens_.outstanding(h.proto_id.value(), h.token)) return drop(Drop::kBadToken);
  wire::TokenOffer offer;
  if (wire::parse_token_offer(payload, offer) != wire::ParseStatus::kOk)
    return drop(Drop::kBadOffer);
  if (!tokens_.on_offer(h.proto_id.value(), h.token, offer, now, out.token))
    return drop(Drop::kBadToken);  // cannot happen: outstanding() said yes
  out.proto_id = h.proto_id.value();
  out.provider_id = h.provider_id.value();
  return ReturnKind::kToken;
}

CapturePath::ReturnKind CapturePath::on_packet(const Selector& s, std::span<const std::byte> packet,
                                               ReturnResult& out) noexcept {
  InjectCheck check = InjectCheck::kOk;
  if (s.kind == Selector::Kind::kIpv6) {
    // An advertisement is consumed, never injected.
    if (whole_ipv6_packet(packet) && is_router_advert(packet)) {
      if (!parse_router_advert(packet, out.advert)) return drop(Drop::kBadAdvert);
      ++counters_.adverts;
      return ReturnKind::kAdvert;
    }
    check = check_ipv6_return(packet, address_);
  } else {
    check = check_ipv4_return(s, packet, host_);
  }
  switch (check) {
    case InjectCheck::kBadPacket:
      return drop(Drop::kBadReturnPacket);
    case InjectCheck::kNotForUs:
      return drop(Drop::kNotForUs);
    case InjectCheck::kOk:
      break;
  }
  out.packet = packet;
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
