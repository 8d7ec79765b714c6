#include "gateway/forwarding_table.h"

#include <algorithm>
#include <set>

#include "common/wire/shim.h"
#include "gateway/consistent_hash.h"

namespace dmux::gateway {

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

void ForwardingTable::sort_routers() {
  std::sort(routers_.begin(), routers_.end());
  routers_.erase(std::unique(routers_.begin(), routers_.end(),
                             [](const RouterEntry& a, const RouterEntry& b) {
                               return a.proto_id == b.proto_id && a.provider_id == b.provider_id &&
                                      a.address == b.address;
                             }),
                 routers_.end());
  unkeyed_ = static_cast<std::size_t>(
      std::count_if(routers_.begin(), routers_.end(), [](const RouterEntry& r) { return !r.key; }));
}

void ForwardingTable::add_to_group(std::uint64_t k, const RouterEntry& r) {
  if (!r.key) return;  // never selected: every TUNNEL is sealed with the router's key
  auto& g = groups_[k];
  g.seeds.push_back(router_seed(r.address.addr, r.address.port, r.provider_id));
  g.targets.push_back(RouterTarget{r.address, r.key_id, r.key.get()});
  keys_.push_back(r.key);
}

ForwardingTable::ForwardingTable(std::vector<RouterEntry> routers) : routers_(std::move(routers)) {
  sort_routers();
  for (const auto& r : routers_) {
    add_to_group(key(r.proto_id, r.provider_id), r);
    add_to_group(key(r.proto_id, wire::kAnyProvider), r);
  }
}

ForwardingTable::ForwardingTable(std::vector<RouterEntry> routers,
                                 const std::vector<ExplicitGroup>& groups)
    : routers_(std::move(routers)) {
  sort_routers();
  for (const auto& g : groups) {
    std::set<std::pair<std::uint32_t, net::Endpoint>> seen;  // (provider, address)
    for (const auto& r : g.members) {
      if (r.key && seen.emplace(r.provider_id, r.address).second) {
        add_to_group(key(g.proto_id, g.provider_id), r);
      }
    }
  }
}

SelectStatus ForwardingTable::select(std::uint16_t proto_id, std::uint32_t provider_id,
                                     std::uint32_t client_ipv4, RouterTarget& out) const noexcept {
  auto it = groups_.find(key(proto_id, provider_id));
  if (it == groups_.end()) {
    if (provider_id == wire::kAnyProvider ||
        groups_.find(key(proto_id, wire::kAnyProvider)) == groups_.end()) {
      return SelectStatus::kUnknownProtocol;
    }
    return SelectStatus::kNoRouter;
  }
  const Group& g = it->second;
  out = g.targets[rendezvous_pick(g.seeds, client_ipv4)];
  return SelectStatus::kOk;
}

}  // namespace dmux::gateway
