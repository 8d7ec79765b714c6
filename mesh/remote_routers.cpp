#include "mesh/remote_routers.h"

namespace dmux::mesh {

bool RemoteRouters::on_update(std::uint32_t origin, Version v, bool present, const RouterRecord& r) {
  Origin& o = origins_[origin];
  if (v <= o.version) return false;  // stale or duplicate
  o.version = v;
  bool changed = false;
  if (present) {
    auto [it, inserted] = o.routers.try_emplace(key(r), r);
    changed = inserted || it->second != r;
    it->second = r;
  } else {
    changed = o.routers.erase(key(r)) > 0;
  }
  changes_ += changed ? 1 : 0;
  return changed;
}

bool RemoteRouters::on_full_state(std::uint32_t origin, Version v,
                                  std::span<const RouterRecord> routers) {
  Origin& o = origins_[origin];
  if (v < o.version) return false;
  o.version = v;
  decltype(o.routers) fresh;
  for (const auto& r : routers) fresh[key(r)] = r;
  const bool changed = fresh != o.routers;
  o.routers = std::move(fresh);
  o.down = false;
  changes_ += changed ? 1 : 0;
  return changed;
}

void RemoteRouters::on_peer_up(std::uint32_t origin) {
  auto it = origins_.find(origin);
  if (it != origins_.end()) it->second.down = false;
}

void RemoteRouters::on_peer_down(std::uint32_t origin, TimePoint now) {
  auto it = origins_.find(origin);
  if (it == origins_.end() || it->second.down) return;
  it->second.down = true;
  it->second.down_since = now;
}

std::size_t RemoteRouters::expire(TimePoint now) {
  std::size_t dropped = 0;
  for (auto& [origin, o] : origins_) {
    if (o.down && !o.routers.empty() && now - o.down_since >= grace_) {
      // The version stays as a tombstone, so nothing older can bring the routers back; the
      // origin's full state on its return (same or newer version) is accepted.
      o.routers.clear();
      ++changes_;
      ++dropped;
    }
  }
  return dropped;
}

std::vector<RemoteRouter> RemoteRouters::routers() const {
  std::vector<RemoteRouter> out;
  for (const auto& [origin, o] : origins_) {
    for (const auto& [k, r] : o.routers) out.push_back(RemoteRouter{origin, r});
  }
  return out;
}

}  // namespace dmux::mesh
