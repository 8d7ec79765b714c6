// The forwarding table a meshed gateway builds, with injected RTTs: the paper's rule, the path
// rule, provider scoping, and hashing over a tier.
#include "gateway/mesh_table.h"

#include <doctest/doctest.h>

#include <map>

#include "gateway/dataplane/test_routers.h"

using namespace dmux;
using namespace dmux::gateway;
using std::chrono::microseconds;

namespace {

// A router registered at gateway `origin`, with a tunnel key (a router without one is never
// chosen).
std::shared_ptr<const mesh::RemoteRouter> remote(std::uint32_t origin, std::uint32_t provider,
                                                 std::uint32_t addr,
                                                 std::uint32_t router_rtt_us = 0) {
  auto r = std::make_shared<mesh::RemoteRouter>();
  r->origin = wire::GatewayId{origin};
  r->record.id =
      wire::RouterId{wire::ProtoId{1}, wire::ProviderId{provider}, net::Endpoint{addr, 5000}};
  r->record.router_rtt_us = router_rtt_us;
  r->record.key_id = 7;
  r->key = testing::tunnel_key(static_cast<std::uint8_t>(addr));
  return r;
}
using Remotes = std::vector<std::shared_ptr<const mesh::RemoteRouter>>;

GatewayRtt rtts(std::map<std::uint32_t, int> ms) {
  return [ms](wire::GatewayId gw) -> std::optional<microseconds> {
    auto it = ms.find(gw.value());
    if (it == ms.end()) return std::nullopt;
    return microseconds(it->second * 1000);
  };
}

std::uint32_t pick(const ForwardingTable& t, std::uint32_t provider, std::uint32_t client) {
  RouterTarget out;
  if (t.select(wire::ProtoId{1}, wire::ProviderId{provider}, client, out) != SelectStatus::kOk)
    return 0;
  return out.address.addr;
}

}  // namespace

TEST_CASE("remote routers at the nearest gateway are chosen; all are listed") {
  const Remotes rs = {remote(22, 7, 1), remote(33, 7, 2)};
  const auto t = build_mesh_table({}, rs, rtts({{22, 30}, {33, 5}}), {});
  CHECK(t->size() == 2);
  for (std::uint32_t c = 0; c < 50; ++c) CHECK(pick(*t, 0, c) == 2);
  CHECK(pick(*t, 7, 9) == 2);
}

TEST_CASE("a local router beats remote ones under the paper's rule; path counts its distance") {
  const std::vector<RouterEntry> local = {
      testing::keyed_router(1, 7, net::Endpoint{9, 5000}, RouterOrigin::kRegistered)};
  // The remote router is 5 ms from here via its gateway, 1 ms from that gateway.
  const Remotes rs = {remote(22, 7, 1, 1000)};
  const auto paper = build_mesh_table(local, rs, rtts({{22, 5}}),
                                      mesh::SelectionConfig{.use_router_distance = false});
  CHECK(pick(*paper, 0, 1) == 9);
  // Local routers' own distance is unknown (0), so the local one still wins on path cost 0 < 6.
  const auto path = build_mesh_table(local, rs, rtts({{22, 5}}), {});
  CHECK(pick(*path, 0, 1) == 9);
}

TEST_CASE(
    "path selection prefers a router close to its gateway over one far from a nearer gateway") {
  const Remotes rs = {remote(22, 7, 1, 40'000), remote(33, 7, 2, 1'000)};
  const auto g = rtts({{22, 5}, {33, 10}});
  const auto paper =
      build_mesh_table({}, rs, g, mesh::SelectionConfig{.use_router_distance = false});
  CHECK(pick(*paper, 0, 1) == 1);  // nearest gateway (5 ms), router 40 ms beyond it
  const auto path = build_mesh_table({}, rs, g, {});
  CHECK(pick(*path, 0, 1) == 2);  // 10 + 1 ms < 5 + 40 ms
}

TEST_CASE("under path selection a local router far from this gateway loses to a near remote one") {
  const RouterEntry far =
      testing::keyed_router(1, 7, net::Endpoint{9, 5000}, RouterOrigin::kRegistered);
  const Remotes rs = {remote(22, 7, 1, 1000)};
  const LocalRouterRtt local_rtt = [](const RouterEntry&) -> std::optional<microseconds> {
    return microseconds(60'000);  // the agent measured 60 ms to us
  };
  const auto path = build_mesh_table({far}, rs, rtts({{22, 5}}), {}, local_rtt);
  CHECK(pick(*path, 0, 1) == 1);  // 5 + 1 ms < 60 ms
  const auto paper = build_mesh_table(
      {far}, rs, rtts({{22, 5}}), mesh::SelectionConfig{.use_router_distance = false}, local_rtt);
  CHECK(pick(*paper, 0, 1) == 9);
}

TEST_CASE("provider-specific requests only go to that provider, however far") {
  const Remotes rs = {remote(22, 7, 1), remote(33, 9, 2)};
  const auto t = build_mesh_table({}, rs, rtts({{22, 1}, {33, 80}}), {});
  CHECK(pick(*t, 9, 5) == 2);
  CHECK(pick(*t, 7, 5) == 1);
  CHECK(pick(*t, 0, 5) == 1);
  RouterTarget out;
  CHECK(t->select(wire::ProtoId{1}, wire::ProviderId{8}, 5, out) == SelectStatus::kNoRouter);
  CHECK(t->select(wire::ProtoId{2}, wire::ProviderId{0}, 5, out) == SelectStatus::kUnknownProtocol);
}

TEST_CASE("equally near routers share clients by the consistent hash") {
  const Remotes rs = {remote(22, 7, 1), remote(22, 7, 2), remote(33, 7, 3)};
  const auto t = build_mesh_table({}, rs, rtts({{22, 2}, {33, 50}}), {});
  std::map<std::uint32_t, int> seen;
  for (std::uint32_t c = 0; c < 200; ++c) ++seen[pick(*t, 0, c * 7919)];
  CHECK(seen.size() == 2);
  CHECK(seen.count(3) == 0);
  CHECK(pick(*t, 0, 1234) == pick(*t, 0, 1234));  // stable per client
}

TEST_CASE("the builder follows deltas and rebuilds only the groups they touch") {
  std::map<std::uint32_t, int> ms = {{22, 5}, {33, 10}};
  TableBuilder b({}, true, [&ms](wire::GatewayId gw) -> std::optional<microseconds> {
    return microseconds(ms.at(gw.value()) * 1000);
  });
  auto r1 = remote(22, 7, 1);
  auto r2 = remote(33, 7, 2);
  auto r9 = remote(33, 9, 3);
  const mesh::RemoteChanges add = {
      {mesh::RemoteChange::Kind::kAdded, wire::GatewayId{22}, r1->id(), r1},
      {mesh::RemoteChange::Kind::kAdded, wire::GatewayId{33}, r2->id(), r2},
      {mesh::RemoteChange::Kind::kAdded, wire::GatewayId{33}, r9->id(), r9}};
  b.apply(add);
  auto now = std::chrono::steady_clock::now();
  auto next = [&now] { return now += std::chrono::seconds(1); };  // the catalog is due each time
  auto t = b.build(next());
  CHECK(pick(*t, 7, 1) == 1);  // gateway 22 is nearer
  CHECK(pick(*t, 9, 1) == 3);
  CHECK(b.build(next()) == t);  // nothing changed: the same table
  const auto before = b.groups_rebuilt();
  ms[22] = 50;  // gateway 22 moved away
  const std::uint32_t moved[] = {22};
  b.gateway_rtt_moved(moved);
  t = b.build(next());
  CHECK(pick(*t, 7, 1) == 2);
  CHECK(b.groups_rebuilt() - before == 2);  // (1, 7) and (1, any); (1, 9) untouched
  const mesh::RemoteChanges gone = {
      {mesh::RemoteChange::Kind::kRemoved, wire::GatewayId{33}, r2->id(), nullptr}};
  b.apply(gone);
  t = b.build(next());
  CHECK(pick(*t, 7, 1) == 1);
  CHECK(t->size() == 2);
  // A registered router comes and goes as registry deltas.
  registry::UpRouter up;
  up.id = wire::RouterId{wire::ProtoId{1}, wire::ProviderId{7}, net::Endpoint{9, 5000}};
  up.evidence.key_id = 3;
  up.evidence.key = testing::tunnel_key(9);
  const std::vector<registry::RouterChange> reg = {{up.id, up}};
  b.apply(reg);
  CHECK(pick(*b.build(next()), 7, 1) == 9);  // local: cost 0
  const std::vector<registry::RouterChange> dereg = {{up.id, std::nullopt}};
  b.apply(dereg);
  CHECK(pick(*b.build(next()), 7, 1) == 1);
}
