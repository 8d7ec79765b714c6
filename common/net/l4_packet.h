// Where the transport header of an IP packet is: the one parse the offload code (tso, gro) does
// of an untrusted IPv4 or IPv6 packet, through wire::ByteReader. Only the shapes offloads handle
// are accepted: IPv4 without fragmentation, or IPv6 whose next header is TCP or UDP directly (no
// extension headers), carrying TCP (data offset 20..60) or UDP. Pure; never allocates or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::net {

inline constexpr std::uint8_t kIpProtoTcp = 6;
inline constexpr std::uint8_t kIpProtoUdp = 17;
inline constexpr std::size_t kMaxIpPacket = 65535;

struct L4Packet {
  std::uint8_t ip_version = 0;    // 4 or 6
  std::uint8_t protocol = 0;      // kIpProtoTcp or kIpProtoUdp
  std::size_t l4_offset = 0;      // IP header bytes (IPv4 with options: 20..60; IPv6: 40)
  std::size_t l4_header_len = 0;  // TCP: data offset * 4; UDP: 8
  std::size_t ip_len = 0;         // the IP header's own length (total, or 40 + payload length)
  [[nodiscard]] std::size_t headers_len() const noexcept { return l4_offset + l4_header_len; }
};

enum class L4Status : std::uint8_t {
  kOk,
  kTruncated,    // shorter than its headers, or than its IP length says
  kMalformed,    // bad version, header length, data offset
  kUnsupported,  // another protocol, IPv6 extension headers, an IPv4 fragment
};

// Parses `packet`. `lengths_from_ip`: the IP length fields must match the bytes present exactly
// (an ordinary packet); false: they are ignored (a GSO super-packet, whose lengths the kernel may
// leave stale) and ip_len is set to packet.size().
[[nodiscard]] L4Status parse_l4_packet(std::span<const std::byte> packet, bool lengths_from_ip,
                                       L4Packet& out) noexcept;

}  // namespace dmux::net
