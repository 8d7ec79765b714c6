// Routers registered at other gateways, as this gateway learns them over the mesh: verified
// router records (record_check.h) per origin gateway, with the tunnel key each carries.
//
// Every gateway numbers the changes to its own registrations with a version (incarnation, seq):
// the incarnation is fixed at its start (its start time), seq grows with each change. Updates and
// full-state snapshots carry the origin's version after the change; anything not newer than what
// is held for that origin is stale and ignored, so a delayed message can never bring back a router
// that has gone. When an origin's link is down for `grace`, its routers are dropped; when it
// returns, its full state replaces them. Caps bound what one origin, and all origins for one
// provider, can make this gateway hold (docs/protocol.md 12.8).
//
// Every mutation returns what changed, as typed deltas, so the forwarding table is updated by what
// changed only. Control thread only; event-named calls, caller's clock.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <span>
#include <vector>

#include "common/crypto/data_path_mac.h"
#include "common/net/endpoint.h"
#include "common/wire/ids.h"
#include "common/wire/mesh.h"
#include "mesh/record_check.h"

namespace dmux::mesh {

using TimePoint = std::chrono::steady_clock::time_point;

struct Version {
  std::uint64_t incarnation = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const Version&) const = default;
};

using wire::ProviderId;
using wire::RouterId;

// A verified router record from `origin`, with its tunnel key expanded for the data plane.
struct RemoteRouter {
  wire::GatewayId origin;
  wire::mesh::Router record;
  std::shared_ptr<const CertEntry> cert;         // what its signature was checked with
  std::shared_ptr<const crypto::TunnelKey> key;  // from record.tunnel_key
  [[nodiscard]] const RouterId& id() const noexcept { return record.id; }
  // The router's distance to its origin as this gateway believes it: the origin's figure, but
  // never below what the router's own agent measured and signed (docs/protocol.md 12.6).
  [[nodiscard]] std::uint32_t effective_rtt_us() const noexcept;
};

struct RemoteChange {
  enum class Kind : std::uint8_t { kAdded, kRemoved, kReplaced };
  Kind kind = Kind::kAdded;
  wire::GatewayId origin;
  RouterId id;
  std::shared_ptr<const RemoteRouter> router;  // null for kRemoved
};
using RemoteChanges = std::vector<RemoteChange>;

struct RemoteRoutersConfig {
  std::chrono::milliseconds grace{10000};  // a vanished origin's routers are kept this long
  std::size_t max_per_origin = 10000;      // records held from one origin
  std::size_t max_per_provider = 1024;     // records held for one provider, all origins
};

class RemoteRouters {
 public:
  explicit RemoteRouters(const RemoteRoutersConfig& config) : config_(config) {}

  // Whether a message with version `v` from `origin` would be applied (check before verifying).
  [[nodiscard]] bool update_is_new(std::uint32_t origin, Version v) const noexcept;
  [[nodiscard]] bool full_state_is_new(std::uint32_t origin, Version v) const noexcept;

  // One router added or replaced (`router` set) or removed (`router` null) at `origin`.
  RemoteChanges on_update(std::uint32_t origin, Version v, const RouterId& id,
                          std::shared_ptr<const RemoteRouter> router);
  // Everything `origin` has registered, as of `v` (verified records only). Records beyond the
  // caps are left out and counted in `refused`.
  RemoteChanges on_full_state(std::uint32_t origin, Version v,
                              std::vector<std::shared_ptr<const RemoteRouter>> routers,
                              std::size_t& refused);
  // The same in steps, for a large full state: begin_full_state() takes the version and removes
  // what the origin no longer has (`present`: the records of the full state that verified), then
  // merge_full_state() adds or replaces them chunk by chunk (caps apply).
  RemoteChanges begin_full_state(std::uint32_t origin, Version v,
                                 const std::set<RouterId>& present);
  RemoteChanges merge_full_state(std::uint32_t origin,
                                 std::span<const std::shared_ptr<const RemoteRouter>> routers,
                                 std::size_t& refused);
  void on_peer_up(std::uint32_t origin);
  void on_peer_down(std::uint32_t origin, TimePoint now);
  // Drops the routers of origins down for at least `grace`.
  RemoteChanges expire(TimePoint now);
  // Drops every router `doomed` says (revocation).
  RemoteChanges drop_if(const std::function<bool(const RemoteRouter&)>& doomed);

  [[nodiscard]] std::vector<std::shared_ptr<const RemoteRouter>> routers() const;
  [[nodiscard]] std::size_t size() const noexcept { return total_; }
  [[nodiscard]] std::size_t count(std::uint32_t origin) const noexcept;
  [[nodiscard]] bool holds(std::uint32_t origin, const RouterId& id) const noexcept;
  [[nodiscard]] const RemoteRoutersConfig& config() const noexcept { return config_; }
  [[nodiscard]] std::uint64_t changes() const noexcept { return changes_; }
  // Records refused by a cap on an update (full states report theirs).
  [[nodiscard]] std::uint64_t refused_by_cap() const noexcept { return refused_by_cap_; }

 private:
  struct Origin {
    Version version;
    std::map<RouterId, std::shared_ptr<const RemoteRouter>> routers;
    bool down = false;
    TimePoint down_since{};
  };
  bool room_for(const Origin& o, ProviderId provider) const noexcept;
  void count_in(ProviderId provider) {
    ++per_provider_[provider];
    ++total_;
  }
  void count_out(ProviderId provider);
  RemoteChanges clear(std::uint32_t origin, Origin& o);

  RemoteRoutersConfig config_;
  std::map<std::uint32_t, Origin> origins_;
  std::map<ProviderId, std::size_t> per_provider_;
  std::size_t total_ = 0;
  std::uint64_t changes_ = 0;
  std::uint64_t refused_by_cap_ = 0;
};

}  // namespace dmux::mesh
