// The forwarding table kept up to date by what changed (issue 12: work bounded by the change).
//
// Every router a gateway knows is a candidate: static ones, ones registered here, ones learnt over
// the mesh. Changes come in as typed deltas (a registration's RouterChange, the mesh's
// RemoteChange, a gateway whose RTT moved); each marks only the (proto_id, provider_id) groups it
// touches, and their (proto_id, any) group, as dirty. build() recomputes the nearest tier
// (mesh/selection.h) of the dirty groups only and hands out a new immutable ForwardingTable that
// shares every other group with the previous one. The caller builds at most once per tick, so a
// burst of 20,000 changes costs one build, not 20,000. The catalog (every router, for status) is
// rebuilt no sooner than catalog_interval() after the last one: 20x what that one cost, between
// kCatalogMin and kCatalogMax, so a small table's catalog is current at once and a huge one's
// costs the control thread at most ~5%. Until then dirty() stays true so the caller comes back.
// Control thread only.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "gateway/dataplane/forwarding_table.h"
#include "mesh/remote_routers.h"
#include "mesh/selection.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

class TableBuilder {
 public:
  using GatewayRtt = std::function<std::optional<std::chrono::microseconds>(wire::GatewayId)>;

  // `tiers`: keep only the nearest tier per group (a gateway in a mesh); otherwise every
  // candidate of a group is in it. `rtt_to` gives this gateway's RTT to another (mesh probes).
  TableBuilder(const mesh::SelectionConfig& config, bool tiers, GatewayRtt rtt_to);

  void set_static(const std::vector<RouterEntry>& routers);
  // One candidate added or changed (found by proto, provider, address, origin, origin gateway),
  // with its own distance to its gateway if known; or removed.
  void upsert(const RouterEntry& e, std::optional<std::chrono::microseconds> router_rtt);
  void remove(const RouterEntry& e) { erase(id_of(e)); }
  void apply(std::span<const registry::RouterChange> changes);
  void apply(std::span<const mesh::RemoteChange> changes);
  void gateway_rtt_moved(std::span<const std::uint32_t> gateways);

  [[nodiscard]] bool dirty() const noexcept { return !dirty_.empty() || routers_changed_; }
  // Recomputes the dirty groups and returns the table (the same one if nothing changed).
  std::shared_ptr<const ForwardingTable> build(
      std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());
  static constexpr std::chrono::milliseconds kCatalogMin{2};
  static constexpr std::chrono::milliseconds kCatalogMax{500};
  [[nodiscard]] std::chrono::steady_clock::duration catalog_interval() const noexcept;
  [[nodiscard]] std::size_t size() const noexcept { return candidates_.size(); }
  [[nodiscard]] std::size_t groups_rebuilt() const noexcept { return groups_rebuilt_; }

 private:
  struct GroupKey {
    wire::ProtoId proto;
    wire::ProviderId provider;  // 0 = the (proto, any) group
    auto operator<=>(const GroupKey&) const = default;
  };
  struct CandidateId {
    wire::RouterId router;
    RouterOrigin origin = RouterOrigin::kStatic;
    wire::GatewayId origin_gateway;
    auto operator<=>(const CandidateId&) const = default;
  };
  struct Candidate {
    CandidateId id;
    RouterEntry entry;
    std::optional<std::chrono::microseconds> router_rtt;
  };
  // Members in CandidateId order, so a group's members come out sorted (duplicates adjacent)
  // without a sort per build.
  struct ById {
    bool operator()(const Candidate* a, const Candidate* b) const noexcept { return a->id < b->id; }
  };

  static CandidateId id_of(const RouterEntry& e) { return {e.id, e.origin, e.origin_gateway}; }
  void erase(const CandidateId& id);
  void mark(wire::ProtoId proto, wire::ProviderId provider);
  void rebuild_group(const GroupKey& g);

  mesh::SelectionConfig config_;
  bool tiers_;
  GatewayRtt rtt_to_;
  std::map<CandidateId, Candidate> candidates_;  // node-based: members_ point into it
  std::map<GroupKey, std::set<const Candidate*, ById>> members_;   // provider-specific groups
  std::map<wire::ProtoId, std::set<wire::ProviderId>> providers_;  // per proto, those present
  std::map<wire::GatewayId, std::map<GroupKey, std::size_t>> by_gateway_;  // origin -> groups
  std::set<GroupKey> dirty_;
  ForwardingTable::Groups groups_;  // tiers as last computed, by group_key
  std::shared_ptr<const ForwardingTable::Catalog> catalog_;
  std::chrono::steady_clock::time_point catalog_built_{};
  std::chrono::steady_clock::duration catalog_cost_{};  // what the last catalog took to build
  std::set<CandidateId> static_ids_;
  bool routers_changed_ = true;
  std::shared_ptr<const ForwardingTable> table_;
  std::size_t groups_rebuilt_ = 0;
};

}  // namespace dmux::gateway
