// Test helpers (unit tests of client only): IP packets and RETURN datagrams to feed the
// data path, the protocol's address-offer vectors, predictable nonces.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "client/host_net.h"
#include "client/return_tokens.h"
#include "common/wire/byte_writer.h"
#include "common/wire/shim.h"

namespace dmux::client::testing {

using Bytes = std::vector<std::byte>;

inline Ipv6Address v6(std::uint8_t last) {
  Ipv6Address a{};
  a[0] = std::byte{0x20};
  a[1] = std::byte{0x01};
  a[15] = std::byte{last};
  return a;
}

// An IPv6 UDP packet with a deliberately wrong checksum.
inline Bytes ipv6_udp(const Ipv6Address& src, const Ipv6Address& dst, std::size_t payload = 8) {
  Bytes p(48 + payload, std::byte{0x11});
  wire::ByteWriter w(p);
  w.u32(0x60000000);
  w.u16(static_cast<std::uint16_t>(8 + payload));
  w.u8(17);
  w.u8(64);
  w.bytes(src);
  w.bytes(dst);
  w.u16(1000);
  w.u16(2000);
  w.u16(static_cast<std::uint16_t>(8 + payload));
  w.u16(0x1234);
  return p;
}

// A 28-byte IPv4 packet of IP protocol `proto` (header checksum left 0: the filters never read it).
inline Bytes ipv4(std::uint8_t proto, std::uint32_t src, std::uint32_t dst) {
  Bytes p(28, std::byte{0x22});
  wire::ByteWriter w(p);
  w.u8(0x45);
  w.u8(0);
  w.u16(28);
  w.u32(0);
  w.u8(64);
  w.u8(proto);
  w.u16(0);
  w.u32(src);
  w.u32(dst);
  return p;
}

// docs/protocol.md section 13 vectors C1 (the RS) and C2 (the RA offering
// 2001:db8:7:c612:102:9c40::/96, valid 600 s, MTU 1400), for wire::testing::hex().
inline constexpr const char* kSolicitationC1 =
    "60000000 0008 3a ff 00000000000000000000000000000000"
    " ff020000000000000000000000000002 85 00 7bb8 00000000";
inline constexpr const char* kAdvertC2 =
    "60000000 0038 3a ff fe800000000000000000000000000001"
    " ff020000000000000000000000000001 86 00 31bc 40 00 0708 00000000 00000000"
    " 03 04 60 00 00000258 00000258 00000000 20010db80007c61201029c4000000000"
    " 05 01 0000 00000578";

// A RETURN of provider 7 carrying `payload`.
inline Bytes return_of(std::span<const std::byte> payload, std::uint64_t token, std::uint16_t proto,
                       std::uint8_t flags = 0) {
  Bytes d(wire::kReturnHeaderLen);
  wire::write_shim(d, wire::MsgType::kReturn,
                   wire::ShimHeader{.flags = flags,
                                    .proto_id = wire::ProtoId{proto},
                                    .provider_id = wire::ProviderId{7},
                                    .token = token});
  d.insert(d.end(), payload.begin(), payload.end());
  return d;
}

// Nonces 1, 2, 3 ... (after `zeros` zeros, if asked): predictable, which only a test may be.
class CountingNonces : public NonceSource {
 public:
  std::uint64_t next_nonce() noexcept override {
    if (zeros > 0) {
      --zeros;
      return 0;
    }
    return ++last;
  }
  std::uint64_t last = 0;
  int zeros = 0;
};

}  // namespace dmux::client::testing
