#include "provider/router_advert.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/wire/inet_checksum.h"
#include "common/wire/test_bytes.h"

namespace dmux::provider {
namespace {

using Bytes = std::vector<std::byte>;
using wire::testing::hex;

const ClientPrefix kPrefix = *parse_client_prefix("2001:db8:7::/48");
constexpr std::uint32_t kClientIp = 0xc6120102;  // 198.18.1.2
constexpr std::uint16_t kClientPort = 40000;

// docs/protocol.md section 13, vector C1: the Router Solicitation a client sends.
Bytes solicitation() {
  return hex(
      "60000000 0008 3a ff 00000000000000000000000000000000 ff020000000000000000000000000002"
      " 85 00 7bb8 00000000");
}

}  // namespace

TEST_CASE("the client's router solicitation is recognised, variations are not") {
  Bytes rs = solicitation();
  CHECK(is_router_solicitation(rs));
  Bytes bad = rs;
  bad[7] = std::byte{64};  // hop limit
  CHECK_FALSE(is_router_solicitation(bad));
  bad = rs;
  bad[42] = std::byte{0};  // checksum
  CHECK_FALSE(is_router_solicitation(bad));
  bad = rs;
  bad[8] = std::byte{0x20};  // source not ::
  CHECK_FALSE(is_router_solicitation(bad));
  bad = rs;
  bad.pop_back();  // payload length no longer matches
  CHECK_FALSE(is_router_solicitation(bad));
  CHECK_FALSE(is_router_solicitation(Bytes(rs.begin(), rs.begin() + 40)));
}

TEST_CASE("the router advertisement offers prefix|ipv4|port/96 byte for byte") {
  Bytes ra(kRouterAdvertLen);
  REQUIRE(write_router_advert(ra, kPrefix, kClientIp, kClientPort, 1400) == kRouterAdvertLen);
  // docs/protocol.md section 13, vector C2.
  CHECK(ra == hex("60000000 0038 3a ff fe800000000000000000000000000001"
                  " ff020000000000000000000000000001"
                  " 86 00 31bc 40 00 0708 00000000 00000000"
                  " 03 04 60 00 00000258 00000258 00000000 20010db80007c61201029c4000000000"
                  " 05 01 0000 00000578"));
  const std::span<const std::byte> all(ra);
  CHECK(wire::ipv6_l4_checksum(all.subspan<8, 16>(), all.subspan<24, 16>(), 58, all.subspan(40)) ==
        0);
  Bytes small(kRouterAdvertLen - 1);
  CHECK(write_router_advert(small, kPrefix, kClientIp, kClientPort, 1400) == 0);
}

}  // namespace dmux::provider
