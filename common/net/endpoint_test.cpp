#include "common/net/endpoint.h"

#include <doctest/doctest.h>

#include "common/net/udp_socket.h"

using namespace dmux::net;

TEST_CASE("endpoints parse and print") {
  const auto ep = parse_endpoint("198.18.0.1:4500");
  REQUIRE(ep);
  CHECK(ep->addr == 0xc6120001u);
  CHECK(ep->port == 4500);
  CHECK(ep->to_string() == "198.18.0.1:4500");
  CHECK(Endpoint::from_sockaddr(ep->to_sockaddr()) == *ep);
}

TEST_CASE("bad endpoints are refused") {
  for (const char* bad : {"", "198.18.0.1", "198.18.0.1:", "198.18.0.1:65536", "198.18.0.1:-1",
                          "198.18.0.256:1", "host:80", "198.18.0.1:80x", ":80", "198.18.0.1:0"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_endpoint(bad));
  }
  CHECK(parse_endpoint("0.0.0.0:0", true));
}

TEST_CASE("IPv4 prefixes parse, print and refuse host bits") {
  const auto p = parse_ipv4_prefix("198.18.0.0/24");
  REQUIRE(p);
  CHECK(p->addr == 0xc6120000u);
  CHECK(p->length == 24);
  CHECK(p->to_string() == "198.18.0.0/24");
  CHECK(parse_ipv4_prefix("0.0.0.0/0"));
  CHECK(parse_ipv4_prefix("198.18.0.1/32"));
  for (const char* bad : {"", "198.18.0.0", "198.18.0.1/24", "198.18.0.0/33", "198.18.0.0/",
                          "198.18.0.0/-1", "198.18.0.0/24x", "/24", "198.18.0.256/32"}) {
    CAPTURE(bad);
    CHECK_FALSE(parse_ipv4_prefix(bad));
  }
}

TEST_CASE("the kernel's source address toward a destination") {
  // Loopback is always routed; nothing is sent.
  CHECK(source_address_toward(Endpoint{0x7f000001u, 4501}) ==
        std::optional<std::uint32_t>(0x7f000001u));
  const auto other = source_address_toward(Endpoint{0x7f050607u, 4501});
  REQUIRE(other);
  CHECK((*other >> 24) == 127u);
}
