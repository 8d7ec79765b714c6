// Packet builders shared by dmux-mcast's unit tests (IPv4 with IGMP or UDP, sealed TUNNELs
// around them).
#pragma once

#include <cstdint>
#include <initializer_list>
#include <vector>

#include "agent/test_gateway.h"
#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"
#include "common/wire/shim.h"

namespace dmux::multicast::test {

using Bytes = std::vector<std::byte>;

inline void put_sum(Bytes& b, std::size_t from, std::size_t len, std::size_t at) {
  b[at] = std::byte{0};
  b[at + 1] = std::byte{0};
  const std::uint16_t s =
      wire::checksum_finish(wire::checksum_add(std::span<const std::byte>(b).subspan(from, len)));
  b[at] = static_cast<std::byte>(s >> 8);
  b[at + 1] = static_cast<std::byte>(s & 0xff);
}

// An IPv4 packet from `src` to `dst` with protocol `proto` and `payload` (checksums right).
inline Bytes ipv4(std::uint32_t src, std::uint32_t dst, std::uint8_t proto, const Bytes& payload) {
  Bytes p(20 + payload.size());
  wire::ByteWriter w(p);
  w.u8(0x45);
  w.u8(0);
  w.u16(static_cast<std::uint16_t>(p.size()));
  w.u32(0);
  w.u8(1);
  w.u8(proto);
  w.u16(0);
  w.u32(src);
  w.u32(dst);
  w.bytes(payload);
  put_sum(p, 0, 20, 10);
  return p;
}

// An IGMP message with its checksum: type, code, then `body` after the checksum.
inline Bytes igmp(std::uint8_t type, const Bytes& body) {
  Bytes m(4 + body.size());
  wire::ByteWriter w(m);
  w.u8(type);
  w.u8(0);
  w.u16(0);
  w.bytes(body);
  put_sum(m, 0, m.size(), 2);
  return m;
}

inline Bytes u32s(std::initializer_list<std::uint32_t> values) {
  Bytes b;
  for (const auto v : values) {
    for (int i = 3; i >= 0; --i) b.push_back(static_cast<std::byte>((v >> (8 * i)) & 0xff));
  }
  return b;
}

inline Bytes v2_report(std::uint32_t group) { return igmp(0x16, u32s({group})); }
inline Bytes v2_leave(std::uint32_t group) { return igmp(0x17, u32s({group})); }

struct Record {
  std::uint8_t type;
  std::uint32_t group;
  std::uint16_t sources = 0;
};
inline Bytes v3_report(std::initializer_list<Record> records) {
  Bytes body;
  body = {std::byte{0}, std::byte{0}, std::byte{0}, static_cast<std::byte>(records.size())};
  for (const Record& r : records) {
    const Bytes rec = u32s({(std::uint32_t{r.type} << 24) | r.sources, r.group});
    body.insert(body.end(), rec.begin(), rec.end());
    for (std::uint16_t i = 0; i < r.sources; ++i) {
      const Bytes src = u32s({0xc6120901u + i});
      body.insert(body.end(), src.begin(), src.end());
    }
  }
  return igmp(0x22, body);
}

// The gateway of the tests: seals with the static key (agent::test::vector_key(), key_id 0).
inline agent::test::TestGateway& gateway() {
  static agent::test::TestGateway g;
  return g;
}

// A sealed TUNNEL datagram around `packet` from the client `ip:port` with `token`.
inline Bytes tunnel(std::uint32_t ip, std::uint16_t port, std::uint64_t token, const Bytes& packet,
                    std::uint16_t proto = 2, std::uint32_t provider = 0) {
  const wire::TunnelHeader h{.proto_id = dmux::wire::ProtoId{proto},
                             .provider_id = dmux::wire::ProviderId{provider},
                             .client_ipv4 = ip,
                             .client_port = port,
                             .gateway_id = {},
                             .token = token};
  return gateway().tunnel(h, packet);
}

}  // namespace dmux::multicast::test
