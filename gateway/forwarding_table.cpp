#include "gateway/forwarding_table.h"

#include <algorithm>

#include "common/wire/shim.h"
#include "gateway/consistent_hash.h"

namespace dmux::gateway {

std::string_view to_string(RouterOrigin o) noexcept {
  switch (o) {
    case RouterOrigin::kStatic:
      return "static";
    case RouterOrigin::kRegistered:
      return "registered";
  }
  return "unknown";
}

ForwardingTable::ForwardingTable(std::vector<RouterEntry> routers) : routers_(std::move(routers)) {
  std::sort(routers_.begin(), routers_.end());
  routers_.erase(std::unique(routers_.begin(), routers_.end(),
                             [](const RouterEntry& a, const RouterEntry& b) {
                               return a.proto_id == b.proto_id && a.provider_id == b.provider_id &&
                                      a.address == b.address;
                             }),
                 routers_.end());
  for (const auto& r : routers_) {
    const std::uint64_t seed = router_seed(r.address.addr, r.address.port, r.provider_id);
    for (const std::uint64_t k :
         {key(r.proto_id, r.provider_id), key(r.proto_id, wire::kAnyProvider)}) {
      auto& g = groups_[k];
      g.seeds.push_back(seed);
      g.addresses.push_back(r.address);
    }
  }
}

SelectStatus ForwardingTable::select(std::uint16_t proto_id, std::uint32_t provider_id,
                                     std::uint32_t client_ipv4, net::Endpoint& out) const noexcept {
  auto it = groups_.find(key(proto_id, provider_id));
  if (it == groups_.end()) {
    if (provider_id == wire::kAnyProvider ||
        groups_.find(key(proto_id, wire::kAnyProvider)) == groups_.end()) {
      return SelectStatus::kUnknownProtocol;
    }
    return SelectStatus::kNoRouter;
  }
  const Group& g = it->second;
  out = g.addresses[rendezvous_pick(g.seeds, client_ipv4)];
  return SelectStatus::kOk;
}

}  // namespace dmux::gateway
