// Which packets dmux-client tunnels and which it injects (docs/protocol.md 6.3). A RETURN that
// carried the right token is still injected only if its packet is one the client's selectors
// capture and is addressed to the host: for ipv6, to the client's own address; for
// ipv4-multicast, to a group (never unicast: rp_filter is off on the TUN device, so unicast would
// bypass the host's firewall and NAT); for a generic selector, an IPv4 packet of the selector's IP
// protocol to one of the host's own addresses.
//
// Pure functions over untrusted bytes (read with wire::ByteReader); never allocate or throw.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "client/config.h"
#include "client/host_net.h"

namespace dmux::client {

// True if `packet` is one whole IPv4 packet (version 4, header length valid, total length equal
// to the bytes present).
[[nodiscard]] bool whole_ipv4_packet(std::span<const std::byte> packet) noexcept;
// True if `packet` is one whole IPv6 packet (payload length equal to the bytes present).
[[nodiscard]] bool whole_ipv6_packet(std::span<const std::byte> packet) noexcept;

// The host's own IPv4 unicast addresses (host order), those a generic selector's replies may be
// addressed to. Replaced by the control plane (host_ipv4_addresses(), periodically); read by the
// data path on the same thread.
class HostAddresses {
 public:
  void replace(std::vector<std::uint32_t> addresses);  // allocates: control plane only
  [[nodiscard]] bool contains(std::uint32_t ipv4) const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return addresses_.size(); }

 private:
  std::vector<std::uint32_t> addresses_;  // sorted, unique
};

enum class InjectCheck : std::uint8_t {
  kOk,
  kBadPacket,  // not a whole packet of the selector's family
  kNotForUs,   // not addressed to the host, or not what the selector captures
};

// An IPv6 packet from a RETURN (not a Router Advertisement): whole, and to `ours`.
[[nodiscard]] InjectCheck check_ipv6_return(std::span<const std::byte> packet,
                                            const std::optional<Ipv6Address>& ours) noexcept;
// An IPv4 packet from a RETURN of an ipv4-multicast or generic selector `s`.
[[nodiscard]] InjectCheck check_ipv4_return(const Selector& s, std::span<const std::byte> packet,
                                            const HostAddresses& host) noexcept;

}  // namespace dmux::client
