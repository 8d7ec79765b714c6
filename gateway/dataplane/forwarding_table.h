// An immutable snapshot of the routers a gateway may forward to, indexed for the data path.
//
// Built on the control thread (allocates), then published to workers, which only call select()
// (no allocation, no lock, no exception). A lookup by (proto_id, provider_id) returns that
// provider's routers; provider 0 ("any") returns every router of the protocol.
//
// Every TUNNEL is authenticated (docs/protocol.md 5.2), so a router without a tunnel key is listed
// by routers() but never selected: it is left out of every group when the table is built, and
// unkeyed() counts it. The table owns the keys of the routers it can select, so a RouterTarget's
// key lives as long as the snapshot it came from.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "common/crypto/data_path_mac.h"
#include "common/net/endpoint.h"
#include "common/wire/ids.h"

namespace dmux::gateway {

// Where a router entry came from.
enum class RouterOrigin : std::uint8_t { kStatic = 0, kRegistered = 1, kMesh = 2 };
std::string_view to_string(RouterOrigin o) noexcept;

// A router as the forwarding table lists it: its identity (whose provider is never 0: a router
// always belongs to one), where the gateway learnt it, and its tunnel key.
struct RouterEntry {
  wire::RouterId id;
  RouterOrigin origin = RouterOrigin::kStatic;
  wire::GatewayId origin_gateway;  // kMesh: the gateway it registered with
  // The router's tunnel key (docs/protocol.md 5.4): key_id 0 = a static key. A router without a
  // key is never forwarded to.
  std::uint32_t key_id = 0;
  std::shared_ptr<const crypto::TunnelKey> key;

  // Identity and order: (proto, provider, address, origin, origin gateway); the key is payload.
  auto operator<=>(const RouterEntry& o) const noexcept {
    return std::tie(id, origin, origin_gateway) <=> std::tie(o.id, o.origin, o.origin_gateway);
  }
  bool operator==(const RouterEntry& o) const noexcept { return (*this <=> o) == 0; }
};

// What the data plane needs of the chosen router. `key` is never null and is owned by the table
// that returned it.
struct RouterTarget {
  net::Endpoint address;
  std::uint32_t key_id = 0;
  const crypto::TunnelKey* key = nullptr;
};

enum class SelectStatus : std::uint8_t {
  kOk,
  kUnknownProtocol,  // no (keyed) router at all for this proto_id
  kNoRouter,         // routers exist for the protocol but none for the requested provider
};

class ForwardingTable {
 public:
  // The routers one lookup key hashes over, immutable once built, so snapshots share the groups
  // that did not change (gateway/table_builder.h). Owns the keys its targets point to.
  struct Group {
    std::vector<std::uint64_t> seeds;  // rendezvous seeds, parallel to targets
    std::vector<RouterTarget> targets;
    std::vector<std::shared_ptr<const crypto::TunnelKey>> keys;
  };
  using GroupPtr = std::shared_ptr<const Group>;
  using Groups = std::unordered_map<std::uint64_t, GroupPtr>;  // by group_key()
  // Every router, sorted by (proto, provider, address), keyed or not: what status lists.
  struct Catalog {
    std::vector<RouterEntry> routers;
    std::size_t unkeyed = 0;  // of them without a tunnel key (never selected)
  };

  static std::uint64_t group_key(wire::ProtoId proto, wire::ProviderId provider) noexcept {
    return (std::uint64_t{proto.value()} << 32) | provider.value();
  }
  // A group of `members` in order, duplicates (same provider and address) merged (the first
  // kept), members without a key left out; nullptr if nothing is left. `sorted`: members are in
  // (provider, address) order, so duplicates are adjacent (no set needed).
  static GroupPtr make_group(std::span<const RouterEntry* const> members, bool sorted = false);
  static std::shared_ptr<const Catalog> make_catalog(std::vector<RouterEntry> routers);

  ForwardingTable() = default;
  // Every router in its (proto, provider) and (proto, any) group. Duplicates are merged.
  explicit ForwardingTable(std::vector<RouterEntry> routers);

  // The routers to hash over for one key, chosen by the caller (e.g. the nearest tier).
  struct ExplicitGroup {
    wire::ProtoId proto;
    wire::ProviderId provider;  // 0 = any provider
    std::vector<RouterEntry> members;
  };
  // `routers` is what routers() lists; lookups use `groups` only (a key without a group has no
  // router). Duplicate members are merged; members without a key are left out.
  ForwardingTable(std::vector<RouterEntry> routers, const std::vector<ExplicitGroup>& groups);
  // From prebuilt parts (the builder's).
  ForwardingTable(std::shared_ptr<const Catalog> catalog, Groups groups) noexcept
      : catalog_(std::move(catalog)), groups_(std::move(groups)) {}

  // Chooses a router for a client. Data path: noexcept, no allocation.
  SelectStatus select(wire::ProtoId proto, wire::ProviderId provider, std::uint32_t client_ipv4,
                      RouterTarget& out) const noexcept;

  [[nodiscard]] std::span<const RouterEntry> routers() const noexcept {
    return catalog_ ? std::span<const RouterEntry>(catalog_->routers)
                    : std::span<const RouterEntry>{};
  }
  [[nodiscard]] std::size_t size() const noexcept {
    return catalog_ ? catalog_->routers.size() : 0;
  }
  // Routers in routers() that have no tunnel key, and so are never selected.
  [[nodiscard]] std::size_t unkeyed() const noexcept { return catalog_ ? catalog_->unkeyed : 0; }

 private:
  std::shared_ptr<const Catalog> catalog_;
  Groups groups_;  // (proto, provider) and (proto, any)
};

}  // namespace dmux::gateway
