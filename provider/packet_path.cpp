#include "provider/packet_path.h"

#include "common/wire/protocols.h"
#include "provider/ipv6_header.h"

namespace dmux::provider {
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

}  // namespace

bool usable_client_endpoint(std::uint32_t ipv4, std::uint16_t port) noexcept {
  const std::uint32_t first_octet = ipv4 >> 24;
  return port != 0 && first_octet != 0 && first_octet != 127 && first_octet < 224;
}

std::span<const std::byte> PacketPath::on_tunnel(std::span<const std::byte> datagram,
                                                 TunnelReply* reply) noexcept {
  if (reply != nullptr) reply->size = 0;
  ++counters_.tunnels_received;
  counters_.tunnel_bytes_received += datagram.size();
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  if (const auto s = wire::parse_tunnel(datagram, h, payload); s != wire::ParseStatus::kOk) {
    counters_.drop(drop_for(s));
    return {};
  }
  if (h.proto_id != wire::kProtoIpv6) {
    counters_.drop(Drop::kUnsupportedProtocol);
    return {};
  }
  if (h.provider_id != wire::kAnyProvider && h.provider_id != config_.provider_id) {
    counters_.drop(Drop::kWrongProvider);
    return {};
  }
  Ipv6Header ip;
  if (!parse_ipv6_header(payload, ip)) {
    counters_.drop(Drop::kBadPacket);
    return {};
  }
  if (reply != nullptr && is_router_solicitation(payload)) {
    answer_solicitation(h, *reply);
    return {};
  }
  if (!source_matches_client(config_.client_prefix, ip.source, h.client_ipv4, h.client_port,
                             h.token)) {
    counters_.drop(Drop::kSpoofedSource);
    return {};
  }
  return payload;
}

bool PacketPath::on_tun_packet(std::span<const std::byte> packet, std::span<std::byte> header,
                               net::Endpoint& client) noexcept {
  ++counters_.tun_packets_read;
  Ipv6Header ip;
  if (!parse_ipv6_header(packet, ip)) {
    counters_.drop(Drop::kTunBadPacket);
    return false;
  }
  if (ip.destination[0] == std::byte{0xff}) {
    counters_.drop(Drop::kMulticast);
    return false;
  }
  EmbeddedClient c;
  if (!extract(config_.client_prefix, ip.destination, c)) {
    counters_.drop(Drop::kOutsideClientPrefix);
    return false;
  }
  if (!usable_client_endpoint(c.ipv4, c.port)) {
    counters_.drop(Drop::kBadClientAddress);
    return false;
  }
  const wire::ShimHeader ret{
      .flags = 0, .proto_id = wire::kProtoIpv6, .provider_id = config_.provider_id, .token = c.tag};
  if (wire::write_shim(header, wire::MsgType::kReturn, ret) != wire::kReturnHeaderLen) {
    counters_.drop(Drop::kSendFailed);  // caller's buffer too small: a programming error
    return false;
  }
  client = net::Endpoint{c.ipv4, c.port};
  return true;
}

void PacketPath::answer_solicitation(const wire::TunnelHeader& h, TunnelReply& reply) noexcept {
  if (!usable_client_endpoint(h.client_ipv4, h.client_port)) {
    counters_.drop(Drop::kBadClientAddress);
    return;
  }
  const wire::ShimHeader ret{
      .flags = 0, .proto_id = wire::kProtoIpv6, .provider_id = config_.provider_id, .token = h.token};
  const std::span<std::byte> out(reply.bytes);
  const std::size_t hdr = wire::write_shim(out, wire::MsgType::kReturn, ret);
  const std::size_t ra = write_router_advert(out.subspan(hdr), config_.client_prefix,
                                             h.client_ipv4, h.client_port, config_.offer_mtu);
  if (hdr != wire::kReturnHeaderLen || ra != kRouterAdvertLen) {
    counters_.drop(Drop::kSendFailed);  // buffer too small: a programming error
    return;
  }
  reply.size = hdr + ra;
  reply.to = net::Endpoint{h.client_ipv4, h.client_port};
  ++counters_.solicitations_answered;
}

void PacketPath::delivered_to_tun(std::size_t bytes) noexcept {
  ++counters_.delivered_to_tun;
  counters_.delivered_bytes += bytes;
}

void PacketPath::returned(std::size_t packet_bytes) noexcept {
  ++counters_.returned;
  counters_.returned_bytes += packet_bytes;
}

}  // namespace dmux::provider
