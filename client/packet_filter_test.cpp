#include "client/packet_filter.h"

#include <doctest/doctest.h>

#include "client/selector.h"
#include "client/test_support.h"

namespace dmux::client {
namespace {

using testing::Bytes;
using testing::ipv4;

constexpr std::uint32_t kHost = 0xc6120102;    // 198.18.1.2
constexpr std::uint32_t kServer = 0xc6120202;  // 198.18.2.2
constexpr std::uint32_t kGroup = 0xef010101;   // 239.1.1.1

}  // namespace

TEST_CASE("whole packets only") {
  Bytes p = ipv4(17, kServer, kHost);
  CHECK(whole_ipv4_packet(p));
  p.push_back(std::byte{0});
  CHECK_FALSE(whole_ipv4_packet(p));  // total length says 28
  p = ipv4(17, kServer, kHost);
  p[0] = std::byte{0x44};  // IHL 4
  CHECK_FALSE(whole_ipv4_packet(p));
  p = ipv4(17, kServer, kHost);
  for (std::size_t cut = 0; cut < p.size(); ++cut)
    CHECK_FALSE(whole_ipv4_packet(std::span(p).first(cut)));
  const Bytes v6 = testing::ipv6_udp(testing::v6(1), testing::v6(2));
  CHECK(whole_ipv6_packet(v6));
  CHECK_FALSE(whole_ipv6_packet(std::span(v6).first(v6.size() - 1)));
  CHECK_FALSE(whole_ipv4_packet(v6));
  CHECK_FALSE(whole_ipv6_packet(ipv4(17, kServer, kHost)));
}

TEST_CASE("ipv6: only packets to our own address") {
  const Bytes to_us = testing::ipv6_udp(testing::v6(2), testing::v6(1));
  CHECK(check_ipv6_return(to_us, testing::v6(1)) == InjectCheck::kOk);
  CHECK(check_ipv6_return(to_us, testing::v6(3)) == InjectCheck::kNotForUs);
  CHECK(check_ipv6_return(to_us, std::nullopt) == InjectCheck::kNotForUs);  // no address yet
  CHECK(check_ipv6_return(std::span(to_us).first(39), testing::v6(1)) == InjectCheck::kBadPacket);
}

TEST_CASE("ipv4-multicast: groups only, never unicast through the TUN device") {
  const Selector mc = parse_selector("ipv4-multicast");
  HostAddresses host;
  host.replace({kHost});
  CHECK(check_ipv4_return(mc, ipv4(17, kServer, kGroup), host) == InjectCheck::kOk);
  CHECK(check_ipv4_return(mc, ipv4(2, kServer, 0xe0000001), host) == InjectCheck::kOk);  // query
  // Unicast, even to the host's own address, would bypass rp_filter and the host's firewall.
  CHECK(check_ipv4_return(mc, ipv4(17, kServer, kHost), host) == InjectCheck::kNotForUs);
  CHECK(check_ipv4_return(mc, ipv4(6, kServer, 0x0a000001), host) == InjectCheck::kNotForUs);
  CHECK(check_ipv4_return(mc, ipv4(17, kServer, 0xf0000001), host) == InjectCheck::kNotForUs);
  Bytes cut = ipv4(17, kServer, kGroup);
  cut.pop_back();
  CHECK(check_ipv4_return(mc, cut, host) == InjectCheck::kBadPacket);
  CHECK(check_ipv4_return(mc, testing::ipv6_udp(testing::v6(2), testing::v6(1)), host) ==
        InjectCheck::kBadPacket);
}

TEST_CASE("generic: the selector's IP protocol, to one of the host's own addresses") {
  const Selector g = parse_selector("generic:proto=exp-0x8001,match=-p 253");
  REQUIRE(g.ip_protocol == 253);
  HostAddresses host;
  host.replace({0x0a000002, kHost, kHost});
  CHECK(host.size() == 2);
  CHECK(check_ipv4_return(g, ipv4(253, kServer, kHost), host) == InjectCheck::kOk);
  CHECK(check_ipv4_return(g, ipv4(253, kServer, 0x0a000002), host) == InjectCheck::kOk);
  CHECK(check_ipv4_return(g, ipv4(17, kServer, kHost), host) == InjectCheck::kNotForUs);
  CHECK(check_ipv4_return(g, ipv4(253, kServer, 0x0a000003), host) == InjectCheck::kNotForUs);
  CHECK(check_ipv4_return(g, ipv4(253, kServer, kGroup), host) == InjectCheck::kNotForUs);
  host.replace({});
  CHECK(check_ipv4_return(g, ipv4(253, kServer, kHost), host) == InjectCheck::kNotForUs);

  host.replace({kHost});
  const Selector any = parse_selector("generic:proto=exp-0x8002,match=-d 198.18.2.0/24");
  CHECK_FALSE(any.ip_protocol);
  CHECK(check_ipv4_return(any, ipv4(6, kServer, kHost), host) == InjectCheck::kOk);
  CHECK(check_ipv4_return(any, ipv4(6, kServer, kServer), host) == InjectCheck::kNotForUs);
  const Selector not_udp = parse_selector("generic:proto=exp-0x8003,match=! -p udp");
  CHECK(not_udp.ip_protocol == 17);
  CHECK(not_udp.ip_protocol_negated);
  CHECK(check_ipv4_return(not_udp, ipv4(17, kServer, kHost), host) == InjectCheck::kNotForUs);
  CHECK(check_ipv4_return(not_udp, ipv4(6, kServer, kHost), host) == InjectCheck::kOk);
}

}  // namespace dmux::client
