#include "mesh/remote_routers.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::mesh;
using namespace std::chrono_literals;

namespace {

std::shared_ptr<const RemoteRouter> router(std::uint32_t addr, std::uint32_t provider = 7,
                                           std::uint32_t rtt = 0) {
  auto r = std::make_shared<RemoteRouter>();
  r->record.id = RouterId{wire::ProtoId{1}, ProviderId{provider}, net::Endpoint{addr, 5000}};
  r->record.router_rtt_us = rtt;
  return r;
}
RouterId id(std::uint32_t addr, std::uint32_t provider = 7) {
  return RouterId{wire::ProtoId{1}, ProviderId{provider}, net::Endpoint{addr, 5000}};
}
std::vector<std::shared_ptr<const RemoteRouter>> list(std::initializer_list<std::uint32_t> addrs) {
  std::vector<std::shared_ptr<const RemoteRouter>> out;
  for (auto a : addrs) out.push_back(router(a));
  return out;
}
RemoteRoutersConfig config(std::size_t per_origin = 100, std::size_t per_provider = 100) {
  return RemoteRoutersConfig{3000ms, per_origin, per_provider};
}

}  // namespace

TEST_CASE("updates apply in version order; stale ones never resurrect a router") {
  RemoteRouters rr(config());
  CHECK(rr.on_update(22, {100, 1}, id(1), router(1)).size() == 1);
  CHECK(rr.on_update(22, {100, 2}, id(1), nullptr).size() == 1);
  CHECK(rr.routers().empty());
  CHECK_FALSE(rr.update_is_new(22, {100, 1}));
  CHECK(rr.on_update(22, {100, 1}, id(1), router(1)).empty());  // delayed duplicate of the add
  CHECK(rr.routers().empty());
  CHECK(rr.on_update(22, {101, 1}, id(1), router(1)).size() == 1);  // a restarted origin
  CHECK(rr.size() == 1);
}

TEST_CASE("full state replaces an origin's routers and reports exactly the difference") {
  RemoteRouters rr(config());
  rr.on_update(22, {100, 1}, id(1), router(1));
  rr.on_update(22, {100, 2}, id(2), router(2));
  std::size_t refused = 0;
  const auto changes = rr.on_full_state(22, {100, 5}, list({2, 3}), refused);
  REQUIRE(changes.size() == 2);  // 1 removed, 3 added; 2 unchanged
  CHECK(changes[0].kind == RemoteChange::Kind::kRemoved);
  CHECK(changes[0].id.address.addr == 1);
  CHECK(changes[1].kind == RemoteChange::Kind::kAdded);
  CHECK(changes[1].id.address.addr == 3);
  CHECK(rr.size() == 2);
  CHECK(rr.on_full_state(22, {100, 4}, list({1}), refused).empty());  // older snapshot
  CHECK(rr.size() == 2);
}

TEST_CASE("a vanished gateway's routers go after the grace time and come back with it") {
  RemoteRouters rr(config());
  const TimePoint t0{};
  std::size_t refused = 0;
  rr.on_full_state(22, {100, 1}, list({1, 2}), refused);
  rr.on_peer_down(22, t0);
  CHECK(rr.expire(t0 + 2999ms).empty());
  CHECK(rr.expire(t0 + 3000ms).size() == 2);
  CHECK(rr.size() == 0);
  CHECK(rr.on_update(22, {100, 1}, id(1), router(1)).empty());  // the tombstone holds
  CHECK(rr.on_full_state(22, {100, 1}, list({1, 2}), refused).size() == 2);
}

TEST_CASE("caps per origin and per provider; removals make room again") {
  RemoteRouters rr(config(3, 4));
  std::size_t refused = 0;
  rr.on_full_state(22, {100, 1}, list({1, 2, 3, 4, 5}), refused);
  CHECK(rr.count(22) == 3);
  CHECK(refused == 2);
  rr.on_full_state(23, {100, 1}, list({6, 7}), refused);
  CHECK(rr.count(23) == 1);  // provider 7 is at its cap of 4
  CHECK(refused == 1);
  CHECK(rr.on_update(23, {100, 2}, id(8), router(8)).empty());
  CHECK(rr.refused_by_cap() == 1);
  rr.on_update(22, {100, 2}, id(1), nullptr);
  CHECK(rr.on_update(23, {100, 3}, id(8), router(8)).size() == 1);
  CHECK(rr.on_update(23, {100, 4}, id(9, 8), router(9, 8)).size() == 1);  // another provider
}

TEST_CASE("drop_if removes what revocation condemns, and reports it") {
  RemoteRouters rr(config());
  std::size_t refused = 0;
  rr.on_full_state(22, {100, 1}, list({1, 2, 3}), refused);
  const auto gone = rr.drop_if([](const RemoteRouter& r) { return r.record.id.address.addr != 2; });
  CHECK(gone.size() == 2);
  CHECK(rr.size() == 1);
}
