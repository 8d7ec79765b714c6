#include "provider/packet_path.h"

#include "common/wire/protocols.h"
#include "provider/ipv6_header.h"

namespace dmux::provider {
namespace {

agent::IngressConfig ingress_config(const PacketPathConfig& c) {
  agent::IngressConfig i = c.ingress;
  i.proto_id = wire::ProtoId{wire::kProtoIpv6};
  i.provider_id = c.provider_id;
  return i;
}

}  // namespace

PacketPath::PacketPath(const PacketPathConfig& config, const crypto::ReturnKey& return_key,
                       const std::optional<crypto::TunnelKeyBytes>& static_key)
    : config_(config), ingress_(ingress_config(config), return_key, static_key) {}

std::span<const std::byte> PacketPath::on_tunnel(std::span<std::byte> datagram,
                                                 const net::Endpoint& from, agent::MonoTime now,
                                                 agent::Reply& reply) noexcept {
  ++counters_.tunnels_received;
  counters_.tunnel_bytes_received += datagram.size();
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  if (ingress_.on_datagram(datagram, from, now, h, payload, reply) !=
      agent::Ingress::Verdict::kPacket) {
    return {};  // dropped and counted, or answered (a TOKEN_OFFER in `reply`)
  }
  Ipv6Header ip;
  if (!parse_ipv6_header(payload, ip)) {
    counters_.drop(Drop::kBadPacket);
    return {};
  }
  if (is_router_solicitation(payload)) {
    answer_solicitation(h, reply);
    return {};
  }
  if (!source_matches_client(config_.client_prefix, ip.source, h.client_ipv4, h.client_port)) {
    counters_.drop(Drop::kSpoofedSource);
    return {};
  }
  if (!ingress_.proven(h)) return {};
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
  if (!ingress_.may_send(c.ipv4, c.port)) return false;
  const wire::ShimHeader ret{.flags = 0,
                             .proto_id = wire::ProtoId{wire::kProtoIpv6},
                             .provider_id = config_.provider_id,
                             .token = ingress_.rt(c.ipv4, c.port)};
  if (wire::write_shim(header, wire::MsgType::kReturn, ret) != wire::kReturnHeaderLen) {
    counters_.drop(Drop::kSendFailed);  // caller's buffer too small: a programming error
    return false;
  }
  client = net::Endpoint{c.ipv4, c.port};
  return true;
}

// The RA (116 bytes of RETURN) is larger than the RS (68 bytes of DATA): only for a client that
// has shown it receives at its address (13.1).
void PacketPath::answer_solicitation(const wire::TunnelHeader& h, agent::Reply& reply) noexcept {
  if (!ingress_.proven(h) || !ingress_.may_send(h.client_ipv4, h.client_port)) return;
  const wire::ShimHeader ret{.flags = 0,
                             .proto_id = wire::ProtoId{wire::kProtoIpv6},
                             .provider_id = config_.provider_id,
                             .token = h.token};
  const std::span<std::byte> out(reply.bytes);
  const std::size_t hdr = wire::write_shim(out, wire::MsgType::kReturn, ret);
  const std::size_t ra = write_router_advert(out.subspan(hdr), config_.client_prefix, h.client_ipv4,
                                             h.client_port, config_.offer_mtu);
  if (hdr != wire::kReturnHeaderLen || ra != kRouterAdvertLen) {
    counters_.drop(Drop::kSendFailed);  // buffer too small: a programming error
    return;
  }
  reply.size = hdr + ra;
  reply.to = net::Endpoint{h.client_ipv4, h.client_port};
  ++counters_.solicitations_answered;
}

void PacketPath::delivered_to_tun(std::size_t packets, std::size_t bytes) noexcept {
  counters_.delivered_to_tun += packets;
  counters_.delivered_bytes += bytes;
}

void PacketPath::returned(std::size_t packet_bytes) noexcept {
  ++counters_.returned;
  counters_.returned_bytes += packet_bytes;
}

}  // namespace dmux::provider
