// Selection with injected RTTs: the paper's rule and the router-distance refinement.
#include "mesh/selection.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::mesh;
using std::chrono::microseconds;

namespace {
Candidate at(std::uint32_t provider, std::uint32_t addr, std::uint32_t origin, int gw_us,
             int router_us) {
  Candidate c;
  c.id = wire::RouterId{wire::ProtoId{1}, wire::ProviderId{provider}, net::Endpoint{addr, 5000}};
  c.origin_gateway = wire::GatewayId{origin};
  if (gw_us >= 0) c.gateway_rtt = microseconds(gw_us);
  if (router_us >= 0) c.router_rtt = microseconds(router_us);
  return c;
}
}  // namespace

TEST_CASE("paper's rule: routers registered at the nearest gateway win") {
  const std::vector<Candidate> cs = {
      at(7, 1, 0, 0, 30'000),      // local, but the router is far from us
      at(7, 2, 22, 5'000, 1'000),  // at a peer 5 ms away, router close to it
      at(7, 3, 33, 40'000, 100),   // at a far peer
  };
  SelectionConfig paper{.use_router_distance = false};
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, paper) ==
        std::vector<std::size_t>{0});
  // Counting the router's own distance finds the better path: 5 + 1 ms < 0 + 30 ms.
  SelectionConfig better{.use_router_distance = true};
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, better) ==
        std::vector<std::size_t>{1});
}

TEST_CASE("ties within the tolerance form one tier (the data plane hashes over it)") {
  const std::vector<Candidate> cs = {at(7, 1, 22, 10'000, 0), at(7, 2, 33, 10'500, 0),
                                     at(7, 3, 44, 12'000, 0)};
  SelectionConfig c{
      .use_router_distance = true, .tolerance = microseconds(1000), .tolerance_ratio = 0.0};
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, c) ==
        std::vector<std::size_t>{0, 1});
  c.tolerance_ratio = 0.25;  // 2.5 ms of slack at 10 ms
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, c) ==
        std::vector<std::size_t>{0, 1, 2});
}

TEST_CASE("provider-specific requests only ever consider that provider") {
  const std::vector<Candidate> cs = {at(7, 1, 0, 0, 0), at(9, 2, 22, 80'000, 0)};
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{9}, {}) == std::vector<std::size_t>{1});
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, {}) == std::vector<std::size_t>{0});
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{8}, {}).empty());
  CHECK(nearest_tier(cs, wire::ProtoId{2}, wire::ProviderId{0}, {}).empty());
}

TEST_CASE("unmeasured peers are usable but lose to measured ones") {
  std::vector<Candidate> cs = {at(7, 1, 22, -1, -1), at(7, 2, 33, -1, -1)};
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, {}) ==
        std::vector<std::size_t>{0, 1});
  cs.push_back(at(7, 3, 44, 90'000, -1));
  CHECK(nearest_tier(cs, wire::ProtoId{1}, wire::ProviderId{0}, {}) == std::vector<std::size_t>{2});
}
