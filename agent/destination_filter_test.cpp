#include "agent/destination_filter.h"

#include <doctest/doctest.h>

namespace dmux::agent {
namespace {

std::uint32_t ip(const char* text) { return *net::parse_ipv4(text); }

TEST_CASE("every special-purpose range is refused, first and last address alike") {
  const DestinationFilter f;
  CHECK(DestinationFilter::special_purpose().size() == 19);
  for (const auto& p : DestinationFilter::special_purpose()) {
    const std::uint32_t last = p.addr | (p.length == 32 ? 0 : (~0u >> p.length));
    CHECK_FALSE(f.allows(p.addr, 4500));
    CHECK_FALSE(f.allows(last, 4500));
  }
  for (const char* a :
       {"10.1.2.3", "192.168.1.1", "100.64.0.1", "100.127.255.255", "169.254.169.254", "127.0.0.1",
        "0.0.0.0", "172.31.0.1", "224.0.0.1", "239.1.1.1", "255.255.255.255", "240.0.0.1",
        "198.19.255.255", "192.0.2.1", "198.51.100.7", "203.0.113.9", "192.88.99.1"}) {
    CHECK_MESSAGE(!f.allows(ip(a), 4500), a);
  }
}

TEST_CASE("public addresses next to the ranges are allowed; port 0 never") {
  const DestinationFilter f;
  for (const char* a : {"9.255.255.255", "11.0.0.0", "100.63.255.255", "100.128.0.0",
                        "172.15.255.255", "172.32.0.0", "198.17.255.255", "198.20.0.0",
                        "192.0.1.255", "192.0.3.0", "223.255.255.255", "8.8.8.8"}) {
    CHECK_MESSAGE(f.allows(ip(a), 4500), a);
  }
  CHECK_FALSE(f.allows(ip("8.8.8.8"), 0));
}

TEST_CASE("an allowed prefix opens that range only") {
  const DestinationFilter f({*net::parse_ipv4_prefix("198.18.0.0/15")});
  CHECK(f.allows(ip("198.18.1.2"), 40000));
  CHECK(f.allows(ip("198.19.255.254"), 40000));
  CHECK_FALSE(f.allows(ip("198.18.1.2"), 0));
  CHECK_FALSE(f.allows(ip("10.0.0.1"), 40000));
  CHECK_FALSE(f.allows(ip("169.254.169.254"), 80));
  const DestinationFilter all({*net::parse_ipv4_prefix("0.0.0.0/0")});
  CHECK(all.allows(ip("10.0.0.1"), 1));
  CHECK(DestinationFilter::contains(*net::parse_ipv4_prefix("0.0.0.0/0"), ip("1.2.3.4")));
}

}  // namespace
}  // namespace dmux::agent
