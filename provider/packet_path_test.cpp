#include "provider/packet_path.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "common/wire/byte_writer.h"
#include "common/wire/protocols.h"

namespace dmux::provider {
namespace {

using Bytes = std::vector<std::byte>;

const ClientPrefix kPrefix = *parse_client_prefix("2001:db8:7::/48");
constexpr std::uint32_t kClientIp = 0xc6120102;  // 198.18.1.2
constexpr std::uint16_t kClientPort = 40000;
constexpr std::uint32_t kTag = 0xdeadbeef;
constexpr std::uint32_t kProvider = 7;

Ipv6Address server() {
  Ipv6Address a{};
  a[0] = std::byte{0x20};
  a[1] = std::byte{0x01};
  a[2] = std::byte{0x0d};
  a[3] = std::byte{0xb8};
  a[15] = std::byte{0x02};
  return a;
}

Bytes ipv6_packet(const Ipv6Address& src, const Ipv6Address& dst, std::size_t payload = 8) {
  Bytes p(40 + payload, std::byte{0xab});
  wire::ByteWriter w(p);
  w.u32(0x60000000);
  w.u16(static_cast<std::uint16_t>(payload));
  w.u8(58);  // ICMPv6
  w.u8(64);
  w.bytes(src);
  w.bytes(dst);
  return p;
}

Bytes tunnel(const Bytes& packet, std::uint16_t proto = wire::kProtoIpv6,
             std::uint32_t provider = kProvider, std::uint64_t token = kTag) {
  const wire::TunnelHeader h{.flags = 0,
                             .proto_id = proto,
                             .provider_id = provider,
                             .client_ipv4 = kClientIp,
                             .client_port = kClientPort,
                             .gateway_id = 0xc6120001,
                             .token = token};
  Bytes d(wire::kTunnelHeaderLen);
  REQUIRE(wire::write_tunnel(d, h) == wire::kTunnelHeaderLen);
  d.insert(d.end(), packet.begin(), packet.end());
  return d;
}

Ipv6Address client_address(std::uint32_t ip = kClientIp, std::uint16_t port = kClientPort,
                           std::uint32_t tag = kTag) {
  return embed(kPrefix, {ip, port, tag});
}

PacketPath make_path() { return PacketPath(PacketPathConfig{kPrefix, kProvider}); }

}  // namespace

TEST_CASE("a TUNNEL from the client's own address is de-tunnelled byte for byte") {
  PacketPath path = make_path();
  const Bytes packet = ipv6_packet(client_address(), server());
  const Bytes d = tunnel(packet);
  const auto out = path.on_tunnel(d);
  REQUIRE(out.size() == packet.size());
  CHECK(std::equal(out.begin(), out.end(), packet.begin()));
  CHECK(path.counters().tunnels_received == 1);
  // Provider 0 ("any") is ours too.
  CHECK(path.on_tunnel(tunnel(packet, wire::kProtoIpv6, 0)).size() == packet.size());
}

TEST_CASE("spoofed sources are dropped and counted") {
  PacketPath path = make_path();
  CHECK(path.on_tunnel(tunnel(ipv6_packet(client_address(kClientIp, 40001), server()))).empty());
  CHECK(path.on_tunnel(tunnel(ipv6_packet(client_address(kClientIp + 1), server()))).empty());
  CHECK(path.on_tunnel(tunnel(ipv6_packet(client_address(kClientIp, kClientPort, 1), server())))
            .empty());
  CHECK(path.on_tunnel(tunnel(ipv6_packet(server(), server()))).empty());
  CHECK(path.counters().dropped(Drop::kSpoofedSource) == 4);
  CHECK(path.counters().delivered_to_tun == 0);
}

TEST_CASE("TUNNELs that are not ours or not IPv6 are dropped by reason") {
  PacketPath path = make_path();
  const Bytes good = ipv6_packet(client_address(), server());
  CHECK(path.on_tunnel(tunnel(good, wire::kProtoIpv4Multicast)).empty());
  CHECK(path.counters().dropped(Drop::kUnsupportedProtocol) == 1);
  CHECK(path.on_tunnel(tunnel(good, wire::kProtoIpv6, 9)).empty());
  CHECK(path.counters().dropped(Drop::kWrongProvider) == 1);

  Bytes v4 = good;
  v4[0] = std::byte{0x45};
  CHECK(path.on_tunnel(tunnel(v4)).empty());
  Bytes long_claim = good;
  long_claim[5] = std::byte{9};  // payload length 9, 8 present
  CHECK(path.on_tunnel(tunnel(long_claim)).empty());
  Bytes trailing = good;
  trailing.push_back(std::byte{0});
  CHECK(path.on_tunnel(tunnel(trailing)).empty());
  CHECK(path.on_tunnel(tunnel(Bytes(good.begin(), good.begin() + 39))).empty());
  CHECK(path.counters().dropped(Drop::kBadPacket) == 4);

  Bytes d = tunnel(good);
  CHECK(path.on_tunnel(std::span(d).first(27)).empty());
  CHECK(path.counters().dropped(Drop::kTruncated) == 1);
  d[0] = std::byte{2};
  CHECK(path.on_tunnel(d).empty());
  CHECK(path.counters().dropped(Drop::kUnsupportedVersion) == 1);
  d[0] = std::byte{1};
  d[1] = std::byte{1};  // DATA
  CHECK(path.on_tunnel(d).empty());
  CHECK(path.counters().dropped(Drop::kUnexpectedType) == 1);
}

TEST_CASE("a packet to a client address becomes a RETURN to the embedded endpoint") {
  PacketPath path = make_path();
  const Bytes reply = ipv6_packet(server(), client_address());
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  net::Endpoint to;
  REQUIRE(path.on_tun_packet(reply, header, to));
  CHECK(to == net::Endpoint{kClientIp, kClientPort});
  // Vector 3 of protocol.md with token = tag.
  const Bytes want = {std::byte{1},    std::byte{3},    std::byte{20},   std::byte{0},
                      std::byte{0},    std::byte{1},    std::byte{0},    std::byte{0},
                      std::byte{0},    std::byte{0},    std::byte{0},    std::byte{7},
                      std::byte{0},    std::byte{0},    std::byte{0},    std::byte{0},
                      std::byte{0xde}, std::byte{0xad}, std::byte{0xbe}, std::byte{0xef}};
  CHECK(std::equal(header.begin(), header.end(), want.begin(), want.end()));
}

TEST_CASE("packets from the TUN device that cannot be returned are dropped by reason") {
  PacketPath path = make_path();
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  net::Endpoint to;
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(server(), server()), header, to));
  CHECK(path.counters().dropped(Drop::kOutsideClientPrefix) == 1);
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(server(), client_address(kClientIp, 0)), header, to));
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(server(), client_address(0x7f000001)), header, to));
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(server(), client_address(0xe0000001)), header, to));
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(server(), client_address(0xffffffff)), header, to));
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(server(), client_address(0)), header, to));
  CHECK(path.counters().dropped(Drop::kBadClientAddress) == 5);
  Bytes junk = ipv6_packet(server(), client_address());
  junk.pop_back();
  CHECK_FALSE(path.on_tun_packet(junk, header, to));
  CHECK(path.counters().dropped(Drop::kTunBadPacket) == 1);
  Ipv6Address mld{};
  mld[0] = std::byte{0xff};
  mld[1] = std::byte{0x02};
  mld[15] = std::byte{0x16};
  CHECK_FALSE(path.on_tun_packet(ipv6_packet(Ipv6Address{}, mld), header, to));
  CHECK(path.counters().dropped(Drop::kMulticast) == 1);
  CHECK(path.counters().tun_packets_read == 8);
}

}  // namespace dmux::provider
