#include "client/router_discovery.h"

#include <doctest/doctest.h>

#include <vector>

#include "client/test_support.h"
#include "common/wire/test_bytes.h"

namespace dmux::client {
namespace {

using wire::testing::hex;

}  // namespace

TEST_CASE("the solicitation is vector C1 byte for byte") {
  std::vector<std::byte> out(kSolicitationLen);
  REQUIRE(write_solicitation(out) == kSolicitationLen);
  CHECK(out == hex(testing::kSolicitationC1));
  std::vector<std::byte> small(kSolicitationLen - 1);
  CHECK(write_solicitation(small) == 0);
}

TEST_CASE("the advertisement of vector C2 offers 2001:db8:7:c612:102:9c40::/96, mtu 1400") {
  const auto ra = hex(testing::kAdvertC2);
  Offer o;
  REQUIRE(is_router_advert(ra));
  REQUIRE(parse_router_advert(ra, o));
  CHECK(o.mtu == 1400);
  CHECK(o.valid_lifetime_s == 600);
  CHECK(o.client_ipv4 == 0xc6120102);  // 198.18.1.2:40000, the binding the router saw
  CHECK(o.client_port == 40000);
  CHECK(std::vector<std::byte>(o.prefix.begin(), o.prefix.end()) ==
        hex("20010db80007c61201029c40"));
}

TEST_CASE("damaged advertisements are refused, never read out of bounds") {
  const auto ra = hex(testing::kAdvertC2);
  for (std::size_t cut = 0; cut < ra.size(); ++cut) {
    Offer o;
    CHECK_FALSE(parse_router_advert(std::span(ra).first(cut), o));
  }
  auto bad = ra;
  bad[43] ^= std::byte{1};  // checksum
  Offer o;
  CHECK_FALSE(parse_router_advert(bad, o));
  bad = ra;
  bad[58] = std::byte{64};  // prefix length 64, not an offer
  // (checksum now wrong too; either way refused)
  CHECK_FALSE(parse_router_advert(bad, o));
  bad = ra;
  bad[57] = std::byte{0};  // zero-length option
  CHECK_FALSE(parse_router_advert(bad, o));
}

}  // namespace dmux::client
