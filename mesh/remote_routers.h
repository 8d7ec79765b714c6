// Routers registered at other gateways, as this gateway learns them over the mesh.
//
// Every gateway numbers the changes to its own registrations with a version (incarnation, seq):
// the incarnation is fixed at its start (its start time), seq grows with each change. Updates and
// full-state snapshots carry the origin's version after the change; anything not newer than what
// is held for that origin is stale and ignored, so a delayed message can never bring back a router
// that has gone. When an origin's link is down for `grace`, its routers are dropped; when it
// returns, its full state replaces them. Control thread only; event-named calls, caller's clock.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <map>
#include <span>
#include <vector>

#include "common/net/endpoint.h"

namespace dmux::mesh {

using TimePoint = std::chrono::steady_clock::time_point;

struct Version {
  std::uint64_t incarnation = 0;
  std::uint64_t seq = 0;
  auto operator<=>(const Version&) const = default;
};

struct RouterRecord {
  std::uint16_t proto_id = 0;
  std::uint32_t provider_id = 0;
  net::Endpoint address;
  std::uint32_t router_rtt_us = 0;  // router <-> its origin gateway; 0 = unknown
  auto operator<=>(const RouterRecord&) const = default;
};

struct RemoteRouter {
  std::uint32_t origin_gateway = 0;
  RouterRecord record;
};

class RemoteRouters {
 public:
  explicit RemoteRouters(std::chrono::milliseconds grace) : grace_(grace) {}

  // One router added (present) or removed at `origin`. Returns true if the set changed.
  bool on_update(std::uint32_t origin, Version v, bool present, const RouterRecord& r);
  // Everything `origin` has registered, as of `v`. Returns true if the set changed.
  bool on_full_state(std::uint32_t origin, Version v, std::span<const RouterRecord> routers);
  void on_peer_up(std::uint32_t origin);
  void on_peer_down(std::uint32_t origin, TimePoint now);
  // Drops the routers of origins down for at least `grace`. Returns the number of origins dropped.
  std::size_t expire(TimePoint now);

  [[nodiscard]] std::vector<RemoteRouter> routers() const;
  [[nodiscard]] std::uint64_t changes() const noexcept { return changes_; }

 private:
  struct Origin {
    Version version;
    std::map<std::tuple<std::uint16_t, std::uint32_t, net::Endpoint>, RouterRecord> routers;
    bool down = false;
    TimePoint down_since{};
  };
  static auto key(const RouterRecord& r) { return std::tuple(r.proto_id, r.provider_id, r.address); }

  std::chrono::milliseconds grace_;
  std::map<std::uint32_t, Origin> origins_;
  std::uint64_t changes_ = 0;
};

}  // namespace dmux::mesh
