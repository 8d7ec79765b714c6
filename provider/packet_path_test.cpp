// PacketPath with TUNNELs sealed as a gateway seals them (agent/test_gateway.h) and return tokens
// under a test K_r: what is de-tunnelled, answered, returned, and every forged input refused.
#include "provider/packet_path.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "agent/test_gateway.h"
#include "common/util/log.h"
#include "common/wire/byte_writer.h"
#include "common/wire/client_control.h"
#include "common/wire/protocols.h"
#include "common/wire/test_bytes.h"

namespace dmux::provider {
namespace {

using agent::test::Bytes;
using agent::test::TestGateway;

const bool kQuiet = (log::set_level(log::Level::kError), true);
const ClientPrefix kPrefix = *parse_client_prefix("2001:db8:7::/48");
constexpr std::uint32_t kClientIp = 0xc6120102;  // 198.18.1.2
constexpr std::uint16_t kClientPort = 40000;
constexpr std::uint32_t kTag = 0xdeadbeef;
constexpr std::uint32_t kProvider = 7;
const agent::MonoTime kT0 = agent::MonoTime(std::chrono::hours(1));
const net::Endpoint kGatewayAddr{0xc6120001, 4500};
const crypto::ReturnKey kReturnKey = crypto::derive_return_key(wire::testing::hex("00 11 22 33"));

std::uint64_t rt(std::uint32_t ip = kClientIp, std::uint16_t port = kClientPort) {
  return crypto::return_token(kReturnKey, wire::kProtoIpv6, kProvider, ip, port);
}

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

// docs/protocol.md 13.4, vector C1.
Bytes solicitation() {
  return wire::testing::hex(
      "60 00 00 00 00 08 3a ff  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
      "ff 02 00 00 00 00 00 00 00 00 00 00 00 00 00 02  85 00 7b b8 00 00 00 00");
}

Ipv6Address client_address(std::uint32_t ip = kClientIp, std::uint16_t port = kClientPort,
                           std::uint32_t tag = kTag) {
  return embed(kPrefix, {ip, port, tag});
}

wire::TunnelHeader header(std::uint64_t token = rt(), std::uint32_t ip = kClientIp,
                          std::uint16_t port = kClientPort, std::uint16_t proto = 1,
                          std::uint32_t provider = kProvider) {
  return wire::TunnelHeader{.proto_id = dmux::wire::ProtoId{proto},
                            .provider_id = dmux::wire::ProviderId{provider},
                            .client_ipv4 = ip,
                            .client_port = port,
                            .gateway_id = {},
                            .token = token};
}

struct Harness {
  PacketPath path;
  TestGateway gw;
  agent::Reply reply;

  explicit Harness(
      std::vector<net::Ipv4Prefix> allowed = {*net::parse_ipv4_prefix("198.18.0.0/15")})
      : path(PacketPathConfig{.client_prefix = kPrefix,
                              .provider_id = wire::ProviderId{kProvider},
                              .ingress = agent::IngressConfig{.allowed_destinations = allowed}},
             kReturnKey, agent::test::vector_key()) {}

  // The bytes the path returns for the TUN device (empty: dropped or answered).
  Bytes send(Bytes d) {
    const auto out = path.on_tunnel(d, kGatewayAddr, kT0, reply);
    return Bytes(out.begin(), out.end());
  }
  Bytes tunnel(const wire::TunnelHeader& h, const Bytes& payload) { return gw.tunnel(h, payload); }
  [[nodiscard]] std::uint64_t ingress_drops(agent::IngressDrop d) const {
    return path.ingress().counters().dropped(d);
  }
  [[nodiscard]] std::uint64_t tunnel_drops(agent::TunnelDrop d) const {
    return path.ingress().receiver().counters().dropped(d);
  }
};

wire::ShimHeader parse_return(const agent::Reply& r, std::span<const std::byte>& payload) {
  wire::ShimHeader h;
  REQUIRE(wire::parse_shim(r.view(), wire::MsgType::kReturn, h, payload) == wire::ParseStatus::kOk);
  return h;
}

}  // namespace

TEST_CASE("a proven client's packet from its own address is de-tunnelled byte for byte") {
  Harness x;
  const Bytes packet = ipv6_packet(client_address(), server());
  CHECK(x.send(x.tunnel(header(), packet)) == packet);
  // Provider 0 ("any") is ours too; any tag the client chose is its own.
  CHECK(x.send(x.tunnel(header(rt(), kClientIp, kClientPort, 1, 0), packet)) == packet);
  const Bytes other_tag = ipv6_packet(client_address(kClientIp, kClientPort, 1), server());
  CHECK(x.send(x.tunnel(header(), other_tag)) == other_tag);
  CHECK(x.path.counters().tunnels_received == 3);
  CHECK(x.reply.size == 0);
}

TEST_CASE("forged TUNNELs are dropped before any work: no key, wrong tag, replayed") {
  Harness x;
  const Bytes packet = ipv6_packet(client_address(), server());
  TestGateway forger(crypto::TunnelKeyBytes{}, 0), unknown(agent::test::vector_key(), 99);
  CHECK(x.send(forger.tunnel(header(), packet)).empty());
  CHECK(x.send(unknown.tunnel(header(), packet)).empty());
  Bytes genuine = x.tunnel(header(), packet);
  CHECK(x.send(genuine) == packet);
  CHECK(x.send(genuine).empty());  // replayed
  Bytes altered = x.tunnel(header(), packet);
  altered.back() ^= std::byte{1};
  CHECK(x.send(altered).empty());
  Bytes unsealed(wire::kTunnelHeaderLen);
  wire::write_tunnel(unsealed, header());
  unsealed.insert(unsealed.end(), packet.begin(), packet.end());
  CHECK(x.send(unsealed).empty());  // v1 behaviour: no tag at all
  CHECK(x.tunnel_drops(agent::TunnelDrop::kBadTag) == 3);
  CHECK(x.tunnel_drops(agent::TunnelDrop::kUnknownKey) == 1);
  CHECK(x.tunnel_drops(agent::TunnelDrop::kReplayed) == 1);
  CHECK(x.path.counters().tunnels_received == 6);
}

TEST_CASE("spoofed sources and unproven tokens are not de-tunnelled") {
  Harness x;
  CHECK(
      x.send(x.tunnel(header(), ipv6_packet(client_address(kClientIp, 40001), server()))).empty());
  CHECK(x.send(x.tunnel(header(), ipv6_packet(client_address(kClientIp + 1), server()))).empty());
  CHECK(x.send(x.tunnel(header(), ipv6_packet(server(), server()))).empty());
  CHECK(x.send(x.tunnel(header(), ipv6_packet(Ipv6Address{}, server()))).empty());
  CHECK(x.path.counters().dropped(Drop::kSpoofedSource) == 4);
  const Bytes mine = ipv6_packet(client_address(), server());
  CHECK(x.send(x.tunnel(header(kTag), mine)).empty());  // version 1: the token was the tag
  CHECK(x.send(x.tunnel(header(rt() ^ 1), mine)).empty());
  CHECK(x.send(x.tunnel(header(rt(kClientIp, 40001)), mine)).empty());
  CHECK(x.ingress_drops(agent::IngressDrop::kUnproven) == 3);
  CHECK(x.path.counters().delivered_to_tun == 0);
}

TEST_CASE("authenticated TUNNELs that are not ours or not IPv6 are dropped by reason") {
  Harness x;
  const Bytes good = ipv6_packet(client_address(), server());
  CHECK(x.send(x.tunnel(header(rt(), kClientIp, kClientPort, 2), good)).empty());
  CHECK(x.ingress_drops(agent::IngressDrop::kUnsupportedProtocol) == 1);
  CHECK(x.send(x.tunnel(header(rt(), kClientIp, kClientPort, 1, 9), good)).empty());
  CHECK(x.ingress_drops(agent::IngressDrop::kWrongProvider) == 1);
  Bytes v4 = good;
  v4[0] = std::byte{0x45};
  CHECK(x.send(x.tunnel(header(), v4)).empty());
  Bytes long_claim = good;
  long_claim[5] = std::byte{9};  // payload length 9, 8 present
  CHECK(x.send(x.tunnel(header(), long_claim)).empty());
  Bytes trailing = good;
  trailing.push_back(std::byte{0});
  CHECK(x.send(x.tunnel(header(), trailing)).empty());
  CHECK(x.send(x.tunnel(header(), Bytes(good.begin(), good.begin() + 39))).empty());
  CHECK(x.path.counters().dropped(Drop::kBadPacket) == 4);
}

TEST_CASE("a Router Solicitation with the client's rt gets an RA RETURN carrying that rt") {
  Harness x;
  CHECK(x.send(x.tunnel(header(), solicitation())).empty());
  REQUIRE(x.reply.size == wire::kReturnHeaderLen + kRouterAdvertLen);
  CHECK(x.reply.to == net::Endpoint{kClientIp, kClientPort});
  std::span<const std::byte> payload;
  const wire::ShimHeader h = parse_return(x.reply, payload);
  CHECK(h.token == rt());
  CHECK(h.provider_id == wire::ProviderId{kProvider});
  CHECK(h.flags == 0);
  CHECK(payload.size() == kRouterAdvertLen);
  CHECK(x.path.counters().solicitations_answered == 1);
  CHECK(x.path.counters().delivered_to_tun == 0);
}

TEST_CASE("a forged or unproven Router Solicitation is never answered") {
  Harness x;
  CHECK(x.send(x.tunnel(header(kTag), solicitation())).empty());
  CHECK(x.send(x.tunnel(header(0), solicitation())).empty());
  CHECK(x.reply.size == 0);
  CHECK(x.ingress_drops(agent::IngressDrop::kUnproven) == 2);
  TestGateway forger(crypto::TunnelKeyBytes{}, 0);
  CHECK(x.send(forger.tunnel(header(), solicitation())).empty());
  CHECK(x.reply.size == 0);
  // Proven, but to a special-purpose address: nothing (a real client there could not be proven:
  // its TOKEN_REQUEST is refused the same way).
  const std::uint32_t private_ip = *net::parse_ipv4("10.1.2.3");
  CHECK(x.send(x.tunnel(header(rt(private_ip), private_ip), solicitation())).empty());
  CHECK(x.reply.size == 0);
  CHECK(x.ingress_drops(agent::IngressDrop::kForbiddenDestination) == 1);
  CHECK(x.path.counters().solicitations_answered == 0);
}

TEST_CASE("a TOKEN_REQUEST is answered with a TOKEN_OFFER of the client's rt") {
  Harness x;
  wire::TunnelHeader h = header(0x1122334455667788);
  h.flags = wire::kFlagControl;
  Bytes request(wire::kTokenRequestLen);
  wire::write_token_request(request);
  CHECK(x.send(x.tunnel(h, request)).empty());
  REQUIRE(x.reply.size == wire::kReturnHeaderLen + wire::kTokenOfferLen);
  std::span<const std::byte> payload;
  const wire::ShimHeader ret = parse_return(x.reply, payload);
  CHECK(ret.token == 0x1122334455667788);
  CHECK(ret.flags == wire::kFlagControl);
  wire::TokenOffer offer;
  REQUIRE(wire::parse_token_offer(payload, offer) == wire::ParseStatus::kOk);
  CHECK(offer.return_token == rt());
  CHECK(offer.client_ipv4 == kClientIp);
  CHECK(offer.client_port == kClientPort);
}

TEST_CASE("a packet to a client address becomes a RETURN carrying the client's rt") {
  Harness x;
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  net::Endpoint to;
  REQUIRE(x.path.on_tun_packet(ipv6_packet(server(), client_address()), header, to));
  CHECK(to == net::Endpoint{kClientIp, kClientPort});
  wire::ShimHeader h;
  std::span<const std::byte> payload;
  Bytes whole(header.begin(), header.end());
  whole.push_back(std::byte{0x60});
  REQUIRE(wire::parse_shim(whole, wire::MsgType::kReturn, h, payload) == wire::ParseStatus::kOk);
  CHECK(h.token == rt());  // not the tag: the servers the client talks to see the tag
  CHECK(h.proto_id == wire::ProtoId{wire::kProtoIpv6});
  CHECK(h.provider_id == wire::ProviderId{kProvider});
}

TEST_CASE("packets from the TUN device are never returned to special-purpose addresses") {
  Harness x;  // allows 198.18.0.0/15 only
  std::array<std::byte, wire::kReturnHeaderLen> header{};
  net::Endpoint to;
  CHECK_FALSE(x.path.on_tun_packet(ipv6_packet(server(), server()), header, to));
  CHECK(x.path.counters().dropped(Drop::kOutsideClientPrefix) == 1);
  std::uint64_t refused = 0;
  for (const char* a :
       {"10.0.0.1", "10.255.255.255", "192.168.1.1", "100.64.0.1", "169.254.169.254", "127.0.0.1",
        "0.0.0.0", "172.16.0.1", "224.0.0.1", "255.255.255.255", "240.0.0.1", "192.0.2.1"}) {
    CHECK_FALSE(x.path.on_tun_packet(ipv6_packet(server(), client_address(*net::parse_ipv4(a))),
                                     header, to));
    ++refused;
  }
  CHECK_FALSE(
      x.path.on_tun_packet(ipv6_packet(server(), client_address(kClientIp, 0)), header, to));
  CHECK(x.ingress_drops(agent::IngressDrop::kForbiddenDestination) == refused + 1);
  Bytes junk = ipv6_packet(server(), client_address());
  junk.pop_back();
  CHECK_FALSE(x.path.on_tun_packet(junk, header, to));
  CHECK(x.path.counters().dropped(Drop::kTunBadPacket) == 1);
  Ipv6Address mld{};
  mld[0] = std::byte{0xff};
  mld[1] = std::byte{0x02};
  mld[15] = std::byte{0x16};
  CHECK_FALSE(x.path.on_tun_packet(ipv6_packet(Ipv6Address{}, mld), header, to));
  CHECK(x.path.counters().dropped(Drop::kMulticast) == 1);
  // Without the lab's allowance, benchmarking addresses are special-purpose too.
  Harness strict(std::vector<net::Ipv4Prefix>{});
  CHECK_FALSE(strict.path.on_tun_packet(ipv6_packet(server(), client_address()), header, to));
  CHECK(strict.path.on_tun_packet(
      ipv6_packet(server(), client_address(*net::parse_ipv4("8.8.8.8"))), header, to));
}

}  // namespace dmux::provider
