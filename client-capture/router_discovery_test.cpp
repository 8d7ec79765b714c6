#include "client-capture/router_discovery.h"

#include <doctest/doctest.h>

#include <string>
#include <vector>

namespace dmux::client {
namespace {

std::vector<std::byte> hex(const char* text) {
  std::vector<std::byte> out;
  for (const char* p = text; *p;) {
    if (*p == ' ') {
      ++p;
      continue;
    }
    out.push_back(static_cast<std::byte>(std::stoi(std::string(p, 2), nullptr, 16)));
    p += 2;
  }
  return out;
}

// docs/protocol.md section 13 vectors C1 and C2.
const char* kRs = "60000000 0008 3a ff 00000000000000000000000000000000"
                  " ff020000000000000000000000000002 85 00 7bb8 00000000";
const char* kRa = "60000000 0038 3a ff fe800000000000000000000000000001"
                  " ff020000000000000000000000000001 86 00 31bc 40 00 0708 00000000 00000000"
                  " 03 04 60 00 00000258 00000258 00000000 20010db80007c61201029c4000000000"
                  " 05 01 0000 00000578";

}  // namespace

TEST_CASE("the solicitation is vector C1 byte for byte") {
  std::vector<std::byte> out(kSolicitationLen);
  REQUIRE(write_solicitation(out) == kSolicitationLen);
  CHECK(out == hex(kRs));
  std::vector<std::byte> small(kSolicitationLen - 1);
  CHECK(write_solicitation(small) == 0);
}

TEST_CASE("the advertisement of vector C2 offers 2001:db8:7:c612:102:9c40::/96, mtu 1400") {
  const auto ra = hex(kRa);
  Offer o;
  REQUIRE(is_router_advert(ra));
  REQUIRE(parse_router_advert(ra, o));
  CHECK(o.mtu == 1400);
  CHECK(std::vector<std::byte>(o.prefix.begin(), o.prefix.end()) ==
        hex("20010db80007c61201029c40"));
}

TEST_CASE("damaged advertisements are refused, never read out of bounds") {
  const auto ra = hex(kRa);
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
