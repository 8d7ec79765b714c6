// The identifier types: distinct, explicit, ordered and hashed like their wire integers.
#include "common/wire/ids.h"

#include <doctest/doctest.h>

#include <type_traits>
#include <unordered_set>

using namespace dmux::wire;

static_assert(!std::is_convertible_v<std::uint32_t, ProviderId>, "explicit only");
static_assert(!std::is_convertible_v<ProviderId, GatewayId>, "distinct types");
static_assert(sizeof(ProtoId) == sizeof(std::uint16_t) && sizeof(ProviderId) == 4, "zero cost");
static_assert(std::is_trivially_copyable_v<RouterId>);

TEST_CASE("ids compare, hash and print as their values") {
  CHECK(ProviderId{7} == ProviderId{7});
  CHECK(ProviderId{7} < ProviderId{9});
  CHECK(ProtoId{} == ProtoId{0});
  std::unordered_set<GatewayId> gateways{GatewayId{1}, GatewayId{1}, GatewayId{2}};
  CHECK(gateways.size() == 2);
  CHECK(to_string(ProtoId{0x8001}) == "32769");
}

TEST_CASE("a router id orders by protocol, provider, then address") {
  const RouterId a{ProtoId{1}, ProviderId{9}, dmux::net::Endpoint{5, 1}};
  const RouterId b{ProtoId{2}, ProviderId{7}, dmux::net::Endpoint{1, 1}};
  const RouterId c{ProtoId{2}, ProviderId{7}, dmux::net::Endpoint{2, 1}};
  CHECK(a < b);
  CHECK(b < c);
  CHECK(to_string(a) == "proto 1 provider 9 0.0.0.5:1");
}
