// The agent's data path as pure logic, without sockets or the TUN device (ProviderApp does the
// I/O): TUNNEL datagram in -> IPv6 packet for the TUN device (or an answer: a TOKEN_OFFER, an
// address offer); IPv6 packet from the TUN device -> RETURN header and client endpoint.
//
// A TUNNEL is dropped before any work unless it passes docs/protocol.md 5.3 (agent::Ingress: key,
// replay window, tag); then it must be ipv6 for provider 0 or ours. A Router Solicitation is
// answered (13.1) if its token is the client's rt; any other packet is de-tunnelled only if its
// source is in the client prefix and embeds the TUNNEL's client_ipv4:client_port
// (spoofed_source) and its token is that client's rt (unproven), section 11. Every RETURN carries
// the rt of its destination and goes only where the destination filter allows.
//
// Everything it is given is untrusted. Never allocates, never throws; every drop is counted by
// reason. Single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "agent/ingress.h"
#include "common/net/endpoint.h"
#include "common/wire/shim.h"
#include "provider/client_address.h"
#include "provider/counters.h"
#include "provider/router_advert.h"

namespace dmux::provider {

struct PacketPathConfig {
  ClientPrefix client_prefix;      // client addresses embed their IPv4:port:tag under it
  wire::ProviderId provider_id{};  // ours (from the certificate); in rt and every RETURN
  std::uint32_t offer_mtu = 1400;  // MTU advertised in address offers (the agent's TUN MTU)
  agent::IngressConfig ingress{};  // receiver, offers, allowed destinations (proto, provider set)
};

static_assert(wire::kReturnHeaderLen + kRouterAdvertLen <= agent::Reply::kCapacity);

class PacketPath {
 public:
  // Throws std::invalid_argument for an unusable config, std::bad_alloc.
  PacketPath(const PacketPathConfig& config, const crypto::ReturnKey& return_key,
             const std::optional<crypto::TunnelKeyBytes>& static_key = std::nullopt);

  // A datagram from the listen socket that is not a registration reply (its tag field is zeroed
  // and restored while checked). Returns the IPv6 packet to write to the TUN device (a view into
  // `datagram`), or an empty span: dropped, or answered in `reply` (reply.size != 0).
  std::span<const std::byte> on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from,
                                       agent::MonoTime now, agent::Reply& reply) noexcept;

  // A packet the kernel routed into the TUN device. On success writes the RETURN header
  // (wire::kReturnHeaderLen bytes) to `header` and the client's address to `client`; the RETURN is
  // that header followed by `packet`. False if dropped.
  bool on_tun_packet(std::span<const std::byte> packet, std::span<std::byte> header,
                     net::Endpoint& client) noexcept;

  // Outcomes of the I/O the caller did with what this class returned.
  void delivered_to_tun(std::size_t bytes) noexcept { delivered_to_tun(1, bytes); }
  // `packets` written at once (coalesced), `bytes` their sizes before coalescing.
  void delivered_to_tun(std::size_t packets, std::size_t bytes) noexcept;
  void returned(std::size_t packet_bytes) noexcept;
  void failed(Drop reason) noexcept { counters_.drop(reason); }

  [[nodiscard]] agent::TunnelKeySink& key_sink() noexcept { return ingress_.key_sink(); }
  void expire(agent::MonoTime now) noexcept { ingress_.expire(now); }
  [[nodiscard]] const agent::Ingress& ingress() const noexcept { return ingress_; }
  [[nodiscard]] const DataPathCounters& counters() const noexcept { return counters_; }

 private:
  void answer_solicitation(const wire::TunnelHeader& h, agent::Reply& reply) noexcept;

  PacketPathConfig config_;
  agent::Ingress ingress_;
  DataPathCounters counters_;
};

}  // namespace dmux::provider
