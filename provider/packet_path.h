// The agent's data path as pure logic, without sockets or the TUN device (ProviderApp does the
// I/O): TUNNEL datagram in -> IPv6 packet for the TUN device; IPv6 packet from the TUN device ->
// RETURN header and client endpoint. Everything it is given is untrusted. Never allocates, never
// throws; every drop is counted by reason. Single-threaded.
#pragma once

#include <array>
#include <cstdint>
#include <span>

#include "common/net/endpoint.h"
#include "common/wire/shim.h"
#include "provider/client_address.h"
#include "provider/counters.h"
#include "provider/router_advert.h"

namespace dmux::provider {

struct PacketPathConfig {
  ClientPrefix client_prefix;     // client addresses embed their IPv4:port:tag under it
  std::uint32_t provider_id = 0;  // ours (from the certificate); sent in every RETURN
  std::uint32_t offer_mtu = 1400; // MTU advertised in address offers (the agent's TUN MTU)
};

// A datagram the agent sends back itself instead of de-tunnelling (the address offer: a RETURN
// carrying a Router Advertisement). Caller-owned, reused for every datagram.
struct TunnelReply {
  std::array<std::byte, wire::kReturnHeaderLen + kRouterAdvertLen> bytes{};
  std::size_t size = 0;  // 0: nothing to send
  net::Endpoint to;
};

class PacketPath {
 public:
  explicit PacketPath(const PacketPathConfig& config) noexcept : config_(config) {}

  // A datagram from the listen socket that is not a registration reply. Returns the IPv6 packet to
  // write to the TUN device (a view into `datagram`), or an empty span if it was dropped.
  std::span<const std::byte> on_tunnel(std::span<const std::byte> datagram) noexcept {
    return on_tunnel(datagram, nullptr);
  }
  // As above; with `reply` set, a Router Solicitation from a client is answered: `reply` gets the
  // RETURN to send (and nothing is returned for the TUN device). Without it, RS are dropped as
  // spoofed_source like any packet from an address that is not the client's.
  std::span<const std::byte> on_tunnel(std::span<const std::byte> datagram,
                                       TunnelReply* reply) noexcept;

  // A packet the kernel routed into the TUN device. On success writes the RETURN header
  // (wire::kReturnHeaderLen bytes) to `header` and the client's address to `client`; the RETURN is
  // that header followed by `packet`. False if dropped.
  bool on_tun_packet(std::span<const std::byte> packet, std::span<std::byte> header,
                     net::Endpoint& client) noexcept;

  // Outcomes of the I/O the caller did with what this class returned.
  void delivered_to_tun(std::size_t bytes) noexcept;
  void returned(std::size_t packet_bytes) noexcept;
  void failed(Drop reason) noexcept { counters_.drop(reason); }

  [[nodiscard]] const DataPathCounters& counters() const noexcept { return counters_; }

 private:
  void answer_solicitation(const wire::TunnelHeader& h, TunnelReply& reply) noexcept;

  PacketPathConfig config_;
  DataPathCounters counters_;
};

// Whether RETURNs may be sent to this embedded client address (not 0/8, 127/8, multicast,
// reserved or broadcast, not port 0): a forged destination must not turn the agent into a
// reflector toward special addresses.
[[nodiscard]] bool usable_client_endpoint(std::uint32_t ipv4, std::uint16_t port) noexcept;

}  // namespace dmux::provider
