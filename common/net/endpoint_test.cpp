#include "common/net/endpoint.h"

#include <doctest/doctest.h>

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
