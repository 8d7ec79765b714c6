// TCP MSS clamping: lowers the MSS option of a SYN (or SYN-ACK) to what fits the tunnel, so that
// neither end sends segments the tunnel would have to refuse with Packet Too Big, whatever its own
// interface MTU (OpenVPN's mssfix, iptables' TCPMSS). The checksum is updated incrementally
// (RFC 1624). Input is untrusted: parsed with l4_packet.h, options with wire::ByteReader; a packet
// that is not a whole TCP SYN, or has no MSS option, is left alone. Pure; never allocates or
// throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::net {

// The MSS that fits a path of `mtu` bytes of IP packet: mtu - 40 (IPv4) or - 60 (IPv6).
[[nodiscard]] constexpr std::uint16_t mss_for_mtu(std::size_t mtu, std::uint8_t ip_version) {
  const std::size_t headers = ip_version == 4 ? 40 : 60;
  return static_cast<std::uint16_t>(mtu > headers ? mtu - headers : 0);
}

// If `packet` is a TCP SYN whose MSS option exceeds the MSS for `mtu`, lowers it. Returns true if
// it changed the packet.
bool clamp_tcp_mss(std::span<std::byte> packet, std::size_t mtu) noexcept;

}  // namespace dmux::net
