#include "mesh/remote_routers.h"

#include <algorithm>

namespace dmux::mesh {

using wire::GatewayId;

std::uint32_t RemoteRouter::effective_rtt_us() const noexcept {
  return std::max(record.router_rtt_us, record.proof.signed_rtt_us);
}

bool RemoteRouters::update_is_new(std::uint32_t origin, Version v) const noexcept {
  auto it = origins_.find(origin);
  return it == origins_.end() || v > it->second.version;
}

bool RemoteRouters::full_state_is_new(std::uint32_t origin, Version v) const noexcept {
  auto it = origins_.find(origin);
  return it == origins_.end() || v >= it->second.version;
}

std::size_t RemoteRouters::count(std::uint32_t origin) const noexcept {
  auto it = origins_.find(origin);
  return it == origins_.end() ? 0 : it->second.routers.size();
}

bool RemoteRouters::holds(std::uint32_t origin, const RouterId& id) const noexcept {
  auto it = origins_.find(origin);
  return it != origins_.end() && it->second.routers.contains(id);
}

bool RemoteRouters::room_for(const Origin& o, ProviderId provider) const noexcept {
  if (o.routers.size() >= config_.max_per_origin) return false;
  auto it = per_provider_.find(provider);
  return it == per_provider_.end() || it->second < config_.max_per_provider;
}

void RemoteRouters::count_out(ProviderId provider) {
  auto it = per_provider_.find(provider);
  if (it != per_provider_.end() && --it->second == 0) per_provider_.erase(it);
  --total_;
}

RemoteChanges RemoteRouters::on_update(std::uint32_t origin, Version v, const RouterId& id,
                                       std::shared_ptr<const RemoteRouter> router) {
  RemoteChanges out;
  Origin& o = origins_[origin];
  if (v <= o.version) return out;  // stale or duplicate
  o.version = v;
  auto it = o.routers.find(id);
  if (!router) {
    if (it == o.routers.end()) return out;
    count_out(id.provider);
    o.routers.erase(it);
    out.push_back(RemoteChange{RemoteChange::Kind::kRemoved, GatewayId{origin}, id, nullptr});
  } else if (it != o.routers.end()) {
    it->second = router;
    out.push_back(
        RemoteChange{RemoteChange::Kind::kReplaced, GatewayId{origin}, id, std::move(router)});
  } else if (!room_for(o, id.provider)) {
    ++refused_by_cap_;
    return out;
  } else {
    count_in(id.provider);
    o.routers.emplace(id, router);
    out.push_back(
        RemoteChange{RemoteChange::Kind::kAdded, GatewayId{origin}, id, std::move(router)});
  }
  changes_ += out.size();
  return out;
}

RemoteChanges RemoteRouters::on_full_state(std::uint32_t origin, Version v,
                                           std::vector<std::shared_ptr<const RemoteRouter>> routers,
                                           std::size_t& refused) {
  refused = 0;
  RemoteChanges out;
  Origin& o = origins_[origin];
  if (v < o.version) return out;
  o.version = v;
  o.down = false;
  // Withdraw what is gone or replaced first, so the caps count the new state, not the old one.
  std::map<RouterId, std::shared_ptr<const RemoteRouter>> fresh;
  for (auto& r : routers) fresh[r->id()] = std::move(r);
  for (auto it = o.routers.begin(); it != o.routers.end();) {
    if (!fresh.contains(it->first)) {
      out.push_back(
          RemoteChange{RemoteChange::Kind::kRemoved, GatewayId{origin}, it->first, nullptr});
      count_out(it->first.provider);
      it = o.routers.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [id, r] : fresh) {
    auto it = o.routers.find(id);
    if (it != o.routers.end()) {
      if (it->second->record.tunnel_key != r->record.tunnel_key ||
          it->second->record.key_id != r->record.key_id ||
          it->second->effective_rtt_us() != r->effective_rtt_us()) {
        it->second = r;
        out.push_back(RemoteChange{RemoteChange::Kind::kReplaced, GatewayId{origin}, id, r});
      }
      continue;
    }
    if (!room_for(o, id.provider)) {
      ++refused;
      continue;
    }
    count_in(id.provider);
    o.routers.emplace(id, r);
    out.push_back(RemoteChange{RemoteChange::Kind::kAdded, GatewayId{origin}, id, r});
  }
  changes_ += out.size();
  return out;
}

RemoteChanges RemoteRouters::merge_full_state(
    std::uint32_t origin, std::span<const std::shared_ptr<const RemoteRouter>> routers,
    std::size_t& refused) {
  refused = 0;
  RemoteChanges out;
  Origin& o = origins_[origin];
  o.down = false;
  for (const auto& r : routers) {
    const RouterId id = r->id();
    auto it = o.routers.find(id);
    if (it != o.routers.end()) {
      if (it->second->record.tunnel_key != r->record.tunnel_key ||
          it->second->record.key_id != r->record.key_id ||
          it->second->effective_rtt_us() != r->effective_rtt_us()) {
        it->second = r;
        out.push_back(RemoteChange{RemoteChange::Kind::kReplaced, GatewayId{origin}, id, r});
      }
      continue;
    }
    if (!room_for(o, id.provider)) {
      ++refused;
      continue;
    }
    count_in(id.provider);
    o.routers.emplace(id, r);
    out.push_back(RemoteChange{RemoteChange::Kind::kAdded, GatewayId{origin}, id, r});
  }
  changes_ += out.size();
  return out;
}

RemoteChanges RemoteRouters::begin_full_state(std::uint32_t origin, Version v,
                                              const std::set<RouterId>& present) {
  RemoteChanges out;
  Origin& o = origins_[origin];
  if (v < o.version) return out;
  o.version = v;
  o.down = false;
  for (auto it = o.routers.begin(); it != o.routers.end();) {
    if (!present.contains(it->first)) {
      out.push_back(
          RemoteChange{RemoteChange::Kind::kRemoved, GatewayId{origin}, it->first, nullptr});
      count_out(it->first.provider);
      it = o.routers.erase(it);
    } else {
      ++it;
    }
  }
  changes_ += out.size();
  return out;
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

RemoteChanges RemoteRouters::clear(std::uint32_t origin, Origin& o) {
  RemoteChanges out;
  for (const auto& [id, r] : o.routers) {
    out.push_back(RemoteChange{RemoteChange::Kind::kRemoved, GatewayId{origin}, id, nullptr});
    count_out(id.provider);
  }
  o.routers.clear();
  changes_ += out.size();
  return out;
}

RemoteChanges RemoteRouters::expire(TimePoint now) {
  RemoteChanges out;
  for (auto& [origin, o] : origins_) {
    if (o.down && !o.routers.empty() && now - o.down_since >= config_.grace) {
      // The version stays as a tombstone, so nothing older can bring the routers back; the
      // origin's full state on its return (same or newer version) is accepted.
      auto gone = clear(origin, o);
      out.insert(out.end(), gone.begin(), gone.end());
    }
  }
  return out;
}

RemoteChanges RemoteRouters::drop_if(const std::function<bool(const RemoteRouter&)>& doomed) {
  RemoteChanges out;
  for (auto& [origin, o] : origins_) {
    for (auto it = o.routers.begin(); it != o.routers.end();) {
      if (doomed(*it->second)) {
        out.push_back(
            RemoteChange{RemoteChange::Kind::kRemoved, GatewayId{origin}, it->first, nullptr});
        count_out(it->first.provider);
        it = o.routers.erase(it);
      } else {
        ++it;
      }
    }
  }
  changes_ += out.size();
  return out;
}

std::vector<std::shared_ptr<const RemoteRouter>> RemoteRouters::routers() const {
  std::vector<std::shared_ptr<const RemoteRouter>> out;
  out.reserve(total_);
  for (const auto& [origin, o] : origins_) {
    for (const auto& [id, r] : o.routers) out.push_back(r);
  }
  return out;
}

}  // namespace dmux::mesh
