#include <doctest/doctest.h>

#include "mesh/remote_routers.h"

using namespace dmux;
using namespace dmux::mesh;
using namespace std::chrono_literals;

namespace {
RouterRecord router(std::uint32_t addr) { return RouterRecord{1, 7, net::Endpoint{addr, 5000}, 0}; }
}  // namespace

TEST_CASE("updates apply in version order; stale ones never resurrect a router") {
  RemoteRouters rr(3000ms);
  CHECK(rr.on_update(22, {100, 1}, true, router(1)));
  CHECK(rr.on_update(22, {100, 2}, false, router(1)));
  CHECK(rr.routers().empty());
  CHECK_FALSE(rr.on_update(22, {100, 1}, true, router(1)));  // delayed duplicate of the add
  CHECK(rr.routers().empty());
  CHECK(rr.on_update(22, {101, 1}, true, router(1)));  // a restarted origin: new incarnation
  CHECK(rr.routers().size() == 1);
}

TEST_CASE("full state replaces an origin's routers (anti-entropy on join)") {
  RemoteRouters rr(3000ms);
  rr.on_update(22, {100, 1}, true, router(1));
  rr.on_update(22, {100, 2}, true, router(2));
  const std::vector<RouterRecord> now = {router(2), router(3)};
  CHECK(rr.on_full_state(22, {100, 5}, now));
  const auto rs = rr.routers();
  REQUIRE(rs.size() == 2);
  CHECK(rs[0].record.address.addr == 2);
  CHECK(rs[1].record.address.addr == 3);
  const std::vector<RouterRecord> old = {router(1)};
  CHECK_FALSE(rr.on_full_state(22, {100, 4}, old));  // older snapshot
}

TEST_CASE("a vanished gateway's routers go after the grace time and come back with it") {
  RemoteRouters rr(3000ms);
  const TimePoint t0{};
  rr.on_update(22, {100, 1}, true, router(1));
  rr.on_update(33, {200, 1}, true, router(9));
  rr.on_peer_down(22, t0);
  CHECK(rr.expire(t0 + 2999ms) == 0);
  CHECK(rr.routers().size() == 2);
  CHECK(rr.expire(t0 + 3000ms) == 1);
  REQUIRE(rr.routers().size() == 1);
  CHECK(rr.routers()[0].origin_gateway == 33);
  CHECK_FALSE(rr.on_update(22, {100, 1}, true, router(1)));  // stale, even after expiry
  rr.on_peer_up(22);
  const std::vector<RouterRecord> back = {router(1)};
  CHECK(rr.on_full_state(22, {100, 1}, back));
  CHECK(rr.routers().size() == 2);
}

TEST_CASE("a peer that reconnects within the grace time loses nothing") {
  RemoteRouters rr(3000ms);
  const TimePoint t0{};
  rr.on_update(22, {100, 1}, true, router(1));
  rr.on_peer_down(22, t0);
  rr.on_peer_up(22);
  CHECK(rr.expire(t0 + 10s) == 0);
  CHECK(rr.routers().size() == 1);
}
