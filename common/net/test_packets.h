// Test helpers: TCP and UDP packets over IPv4 and IPv6 with correct checksums, and a checksum
// check, for the offload tests and the fuzz target's seeds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/net/checksum.h"
#include "common/net/l4_packet.h"

namespace dmux::net::testing {

using Bytes = std::vector<std::byte>;

struct Flow {
  std::uint8_t ip_version = 6;
  std::uint8_t protocol = kIpProtoTcp;
  std::uint16_t sport = 40000;
  std::uint16_t dport = 5201;
  std::uint8_t src_last = 1;  // last byte of 2001:db8::X or 198.18.0.X
  std::uint8_t dst_last = 2;
};

inline void put16(Bytes& b, std::size_t at, std::uint16_t v) {
  b[at] = static_cast<std::byte>(v >> 8);
  b[at + 1] = static_cast<std::byte>(v & 0xff);
}

inline void put32(Bytes& b, std::size_t at, std::uint32_t v) {
  put16(b, at, static_cast<std::uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<std::uint16_t>(v));
}

inline std::uint16_t get16(std::span<const std::byte> b, std::size_t at) {
  return static_cast<std::uint16_t>((std::to_integer<unsigned>(b[at]) << 8) |
                                    std::to_integer<unsigned>(b[at + 1]));
}

inline std::uint32_t get32(std::span<const std::byte> b, std::size_t at) {
  return (std::uint32_t{get16(b, at)} << 16) | get16(b, at + 2);
}

inline std::size_t l4_offset(const Flow& f) { return f.ip_version == 4 ? 20 : 40; }

// A packet of `payload` bytes (pattern from `fill`) with TCP flags (ACK by default) and sequence
// number `seq`. `partial`: the checksum field holds only the pseudo-header sum (as the kernel
// leaves it with NEEDS_CSUM).
inline Bytes make_packet(const Flow& f, std::size_t payload, std::uint32_t seq = 1000,
                         std::uint8_t flags = 0x10, bool partial = false, std::uint8_t fill = 0) {
  const std::size_t ip = l4_offset(f);
  const std::size_t l4h = f.protocol == kIpProtoTcp ? 20 : 8;
  Bytes b(ip + l4h + payload);
  if (f.ip_version == 4) {
    b[0] = std::byte{0x45};
    put16(b, 2, static_cast<std::uint16_t>(b.size()));
    put16(b, 4, 0x1234);
    b[6] = std::byte{0x40};  // DF
    b[8] = std::byte{64};
    b[9] = static_cast<std::byte>(f.protocol);
    b[12] = std::byte{198}, b[13] = std::byte{18}, b[15] = static_cast<std::byte>(f.src_last);
    b[16] = std::byte{198}, b[17] = std::byte{18}, b[19] = static_cast<std::byte>(f.dst_last);
    store_checksum(std::span(b).subspan(10, 2), checksum_sum(std::span(b).first(20)));
  } else {
    b[0] = std::byte{0x60};
    put16(b, 4, static_cast<std::uint16_t>(b.size() - 40));
    b[6] = static_cast<std::byte>(f.protocol);
    b[7] = std::byte{64};
    b[8] = std::byte{0x20}, b[9] = std::byte{0x01}, b[10] = std::byte{0x0d},
    b[11] = std::byte{0xb8};
    b[23] = static_cast<std::byte>(f.src_last);
    b[24] = std::byte{0x20}, b[25] = std::byte{0x01}, b[26] = std::byte{0x0d},
    b[27] = std::byte{0xb8};
    b[39] = static_cast<std::byte>(f.dst_last);
  }
  put16(b, ip, f.sport);
  put16(b, ip + 2, f.dport);
  if (f.protocol == kIpProtoTcp) {
    put32(b, ip + 4, seq);
    put32(b, ip + 8, 777);
    b[ip + 12] = std::byte{0x50};
    b[ip + 13] = static_cast<std::byte>(flags);
    put16(b, ip + 14, 512);
  } else {
    put16(b, ip + 4, static_cast<std::uint16_t>(l4h + payload));
  }
  for (std::size_t i = 0; i < payload; ++i)
    b[ip + l4h + i] = static_cast<std::byte>((i + seq + fill) & 0xff);
  const std::size_t csum = ip + (f.protocol == kIpProtoTcp ? 16 : 6);
  const std::size_t alen = f.ip_version == 4 ? 4 : 16;
  const std::size_t aat = f.ip_version == 4 ? 12 : 8;
  const std::uint16_t pseudo =
      pseudo_header_sum(std::span(b).subspan(aat, alen), std::span(b).subspan(aat + alen, alen),
                        f.protocol, b.size() - ip);
  if (partial) {
    put16(b, csum, pseudo);
  } else {
    store_checksum(std::span(b).subspan(csum, 2), checksum_sum(std::span(b).subspan(ip), pseudo));
  }
  return b;
}

// True if the transport checksum (and IPv4's header checksum) of a whole packet verify.
inline bool checksums_ok(std::span<const std::byte> b) {
  L4Packet p;
  if (parse_l4_packet(b, true, p) != L4Status::kOk) return false;
  if (p.ip_version == 4 && checksum_sum(b.first(p.l4_offset)) != 0xffff) return false;
  const std::size_t alen = p.ip_version == 4 ? 4 : 16;
  const std::size_t aat = p.ip_version == 4 ? 12 : 8;
  const std::uint16_t pseudo = pseudo_header_sum(b.subspan(aat, alen), b.subspan(aat + alen, alen),
                                                 p.protocol, b.size() - p.l4_offset);
  return checksum_sum(b.subspan(p.l4_offset), pseudo) == 0xffff;
}

}  // namespace dmux::net::testing
