#include "gateway/dataplane/forwarding_table.h"

#include <algorithm>
#include <map>
#include <set>

#include "common/wire/shim.h"
#include "gateway/dataplane/consistent_hash.h"

namespace dmux::gateway {
namespace {
constexpr wire::ProviderId kAny{wire::kAnyProvider};
}  // namespace

std::string_view to_string(RouterOrigin o) noexcept {
  switch (o) {
    case RouterOrigin::kStatic:
      return "static";
    case RouterOrigin::kRegistered:
      return "registered";
    case RouterOrigin::kMesh:
      return "mesh";
  }
  return "unknown";
}

ForwardingTable::GroupPtr ForwardingTable::make_group(std::span<const RouterEntry* const> members,
                                                      bool sorted) {
  auto g = std::make_shared<Group>();
  g->seeds.reserve(members.size());
  g->targets.reserve(members.size());
  g->keys.reserve(members.size());
  std::set<std::pair<wire::ProviderId, net::Endpoint>> seen;  // (provider, address); unsorted only
  const RouterEntry* previous = nullptr;
  for (const RouterEntry* r : members) {
    if (!r->key) continue;  // never selected: every TUNNEL is sealed with the router's key
    if (sorted) {
      if (previous != nullptr && previous->id.provider == r->id.provider &&
          previous->id.address == r->id.address) {
        continue;
      }
      previous = r;
    } else if (members.size() > 1 && !seen.emplace(r->id.provider, r->id.address).second) {
      continue;
    }
    const net::Endpoint& a = r->id.address;
    g->seeds.push_back(router_seed(a.addr, a.port, r->id.provider));
    g->targets.push_back(RouterTarget{a, r->key_id, r->key.get()});
    g->keys.push_back(r->key);
  }
  if (g->targets.empty()) return nullptr;
  return g;
}

std::shared_ptr<const ForwardingTable::Catalog> ForwardingTable::make_catalog(
    std::vector<RouterEntry> routers) {
  auto c = std::make_shared<Catalog>();
  c->routers = std::move(routers);
  std::sort(c->routers.begin(), c->routers.end());
  c->routers.erase(
      std::unique(c->routers.begin(), c->routers.end(),
                  [](const RouterEntry& a, const RouterEntry& b) { return a.id == b.id; }),
      c->routers.end());
  c->unkeyed = static_cast<std::size_t>(std::count_if(c->routers.begin(), c->routers.end(),
                                                      [](const RouterEntry& r) { return !r.key; }));
  return c;
}

ForwardingTable::ForwardingTable(std::vector<RouterEntry> routers)
    : catalog_(make_catalog(std::move(routers))) {
  std::map<std::uint64_t, std::vector<const RouterEntry*>> members;
  for (const auto& r : catalog_->routers) {
    members[group_key(r.id.proto, r.id.provider)].push_back(&r);
    members[group_key(r.id.proto, kAny)].push_back(&r);
  }
  for (const auto& [k, m] : members) {
    if (auto g = make_group(m)) groups_.emplace(k, std::move(g));
  }
}

ForwardingTable::ForwardingTable(std::vector<RouterEntry> routers,
                                 const std::vector<ExplicitGroup>& groups)
    : catalog_(make_catalog(std::move(routers))) {
  for (const auto& eg : groups) {
    std::vector<const RouterEntry*> m;
    m.reserve(eg.members.size());
    for (const auto& r : eg.members) m.push_back(&r);
    if (auto g = make_group(m)) groups_.emplace(group_key(eg.proto, eg.provider), std::move(g));
  }
}

SelectStatus ForwardingTable::select(wire::ProtoId proto, wire::ProviderId provider,
                                     std::uint32_t client_ipv4, RouterTarget& out) const noexcept {
  auto it = groups_.find(group_key(proto, provider));
  if (it == groups_.end()) {
    if (provider == wire::kAnyProvider || groups_.find(group_key(proto, kAny)) == groups_.end()) {
      return SelectStatus::kUnknownProtocol;
    }
    return SelectStatus::kNoRouter;
  }
  const Group& g = *it->second;
  out = g.targets[rendezvous_pick(g.seeds, client_ipv4)];
  return SelectStatus::kOk;
}

}  // namespace dmux::gateway
