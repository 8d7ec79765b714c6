#include "gateway/table_builder.h"

#include <algorithm>

#include "common/wire/shim.h"

namespace dmux::gateway {
namespace {
constexpr wire::ProviderId kAny{wire::kAnyProvider};
}  // namespace

TableBuilder::TableBuilder(const mesh::SelectionConfig& config, bool tiers, GatewayRtt rtt_to)
    : config_(config), tiers_(tiers), rtt_to_(std::move(rtt_to)) {}

void TableBuilder::mark(wire::ProtoId proto, wire::ProviderId provider) {
  dirty_.insert(GroupKey{proto, provider});
  dirty_.insert(GroupKey{proto, kAny});
  routers_changed_ = true;
}

void TableBuilder::upsert(const RouterEntry& e,
                          std::optional<std::chrono::microseconds> router_rtt) {
  const CandidateId id = id_of(e);
  auto [it, inserted] = candidates_.try_emplace(id, Candidate{id, e, router_rtt});
  if (!inserted) {
    it->second.entry = e;
    it->second.router_rtt = router_rtt;
  } else {
    members_[GroupKey{e.id.proto, e.id.provider}].insert(&it->second);
    providers_[e.id.proto].insert(e.id.provider);
    if (e.origin == RouterOrigin::kMesh)
      ++by_gateway_[e.origin_gateway][GroupKey{e.id.proto, e.id.provider}];
  }
  mark(e.id.proto, e.id.provider);
}

void TableBuilder::erase(const CandidateId& id) {
  auto it = candidates_.find(id);
  if (it == candidates_.end()) return;
  const GroupKey g{id.router.proto, id.router.provider};
  auto m = members_.find(g);
  if (m != members_.end()) {
    m->second.erase(&it->second);
    if (m->second.empty()) {
      members_.erase(m);
      auto p = providers_.find(id.router.proto);
      if (p != providers_.end()) {
        p->second.erase(id.router.provider);
        if (p->second.empty()) providers_.erase(p);
      }
    }
  }
  if (id.origin == RouterOrigin::kMesh) {
    auto gw = by_gateway_.find(id.origin_gateway);
    if (gw != by_gateway_.end() && --gw->second[g] == 0) {
      gw->second.erase(g);
      if (gw->second.empty()) by_gateway_.erase(gw);
    }
  }
  candidates_.erase(it);
  mark(id.router.proto, id.router.provider);
}

void TableBuilder::set_static(const std::vector<RouterEntry>& routers) {
  for (const auto& id : static_ids_) erase(id);
  static_ids_.clear();
  for (const auto& r : routers) {
    RouterEntry e = r;
    e.origin = RouterOrigin::kStatic;
    e.origin_gateway = wire::GatewayId{};
    upsert(e, std::nullopt);
    static_ids_.insert(id_of(e));
  }
}

void TableBuilder::apply(std::span<const registry::RouterChange> changes) {
  for (const auto& c : changes) {
    const RouterEntry base{c.id, RouterOrigin::kRegistered, {}, 0, nullptr};
    if (!c.router) {
      erase(id_of(base));
      continue;
    }
    RouterEntry e = base;
    e.key_id = c.router->evidence.key_id;
    e.key = c.router->evidence.key;
    std::optional<std::chrono::microseconds> rtt;
    if (c.router->rtt_us != 0) rtt = std::chrono::microseconds(c.router->rtt_us);
    upsert(e, rtt);
  }
}

void TableBuilder::apply(std::span<const mesh::RemoteChange> changes) {
  for (const auto& c : changes) {
    const RouterEntry base{c.id, RouterOrigin::kMesh, c.origin, 0, nullptr};
    if (c.kind == mesh::RemoteChange::Kind::kRemoved || !c.router) {
      erase(id_of(base));
      continue;
    }
    RouterEntry e = base;
    e.key_id = c.router->record.key_id;
    e.key = c.router->key;
    std::optional<std::chrono::microseconds> rtt;
    if (const auto us = c.router->effective_rtt_us(); us != 0) rtt = std::chrono::microseconds(us);
    upsert(e, rtt);
  }
}

void TableBuilder::gateway_rtt_moved(std::span<const std::uint32_t> gateways) {
  for (const std::uint32_t gw : gateways) {
    auto it = by_gateway_.find(wire::GatewayId{gw});
    if (it == by_gateway_.end()) continue;
    for (const auto& [g, n] : it->second) {
      dirty_.insert(g);
      dirty_.insert(GroupKey{g.proto, kAny});
    }
  }
}

void TableBuilder::rebuild_group(const GroupKey& g) {
  ++groups_rebuilt_;
  const std::uint64_t key = ForwardingTable::group_key(g.proto, g.provider);
  std::vector<const Candidate*> members;
  auto add_group = [&](const GroupKey& k) {
    auto m = members_.find(k);
    if (m != members_.end()) members.insert(members.end(), m->second.begin(), m->second.end());
  };
  if (g.provider != kAny) {
    add_group(g);
  } else if (auto p = providers_.find(g.proto); p != providers_.end()) {
    for (const wire::ProviderId provider : p->second) add_group(GroupKey{g.proto, provider});
  }
  // Members come in CandidateId order (per provider, providers in order): a router known twice
  // (registered here and learnt from a peer, or from two peers while it moves) is adjacent to
  // itself, local first, and make_group keeps the first.
  std::vector<const RouterEntry*> tier;
  if (!tiers_) {
    for (const Candidate* c : members) tier.push_back(&c->entry);
  } else {
    std::vector<mesh::Candidate> cands;
    cands.reserve(members.size());
    std::map<wire::GatewayId, std::optional<std::chrono::microseconds>> gateway_rtt;  // per build
    for (const Candidate* c : members) {
      const RouterEntry& e = c->entry;
      const bool remote = e.origin == RouterOrigin::kMesh;
      std::optional<std::chrono::microseconds> to_origin;
      if (remote) {
        auto [it, fresh] = gateway_rtt.try_emplace(e.origin_gateway);
        if (fresh) it->second = rtt_to_(e.origin_gateway);
        to_origin = it->second;
      }
      cands.push_back(mesh::Candidate{e.id, remote ? e.origin_gateway : wire::GatewayId{},
                                      to_origin, c->router_rtt});
    }
    for (const std::size_t i : mesh::nearest_tier(cands, g.proto, g.provider, config_)) {
      tier.push_back(&members[i]->entry);
    }
  }
  if (auto group = ForwardingTable::make_group(tier, /*sorted=*/true)) {
    groups_[key] = std::move(group);
  } else {
    groups_.erase(key);
  }
}

std::chrono::steady_clock::duration TableBuilder::catalog_interval() const noexcept {
  return std::clamp<std::chrono::steady_clock::duration>(20 * catalog_cost_, kCatalogMin,
                                                         kCatalogMax);
}

std::shared_ptr<const ForwardingTable> TableBuilder::build(
    std::chrono::steady_clock::time_point now) {
  if (table_ && !dirty()) return table_;
  const bool groups_changed = !dirty_.empty();
  for (const auto& g : dirty_) rebuild_group(g);
  dirty_.clear();
  const bool catalog_due = !catalog_ || now - catalog_built_ >= catalog_interval();
  if (routers_changed_ && catalog_due) {
    const auto started = std::chrono::steady_clock::now();
    std::vector<RouterEntry> routers;
    routers.reserve(candidates_.size());
    for (const auto& [id, c] : candidates_) routers.push_back(c.entry);
    catalog_ = ForwardingTable::make_catalog(std::move(routers));
    catalog_built_ = now;
    catalog_cost_ = std::chrono::steady_clock::now() - started;
    routers_changed_ = false;
  } else if (!groups_changed && table_) {
    return table_;  // only the catalog is behind: it waits for its turn
  }
  table_ = std::make_shared<const ForwardingTable>(catalog_, groups_);
  return table_;
}

}  // namespace dmux::gateway
