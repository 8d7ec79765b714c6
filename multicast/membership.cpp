#include "multicast/membership.h"

#include <algorithm>

namespace dmux::mcast {

std::string_view to_string(Refusal r) noexcept {
  switch (r) {
    case Refusal::kGroupsPerClient: return "groups_per_client";
    case Refusal::kMembersPerGroup: return "members_per_group";
    case Refusal::kGroupsTotal: return "groups_total";
    case Refusal::kClientsTotal: return "clients_total";
    case Refusal::kCount_: break;
  }
  return "unknown";
}

bool Membership::join(const Member& m, std::uint32_t group, MonoTime now) {
  const std::uint64_t key = client_key(m);
  auto it = clients_.find(key);
  if (it != clients_.end() && it->second.token != m.token) {
    remove_client(key);  // the same address and port with a new token: a restarted client
    --counters_.removed_clients;
    ++counters_.replaced_clients;
    it = clients_.end();
  }
  if (it == clients_.end() && clients_.size() >= config_.max_clients) {
    refuse(Refusal::kClientsTotal);
    return false;
  }
  if (it != clients_.end()) {
    Client& c = it->second;
    c.last_report = now;
    for (Group& g : c.groups) {
      if (g.group == group) {
        g.refreshed = now;
        ++counters_.refreshes;
        return true;
      }
    }
    if (c.groups.size() >= config_.max_groups_per_client) {
      refuse(Refusal::kGroupsPerClient);
      return false;
    }
  }
  const auto git = groups_.find(group);
  if (git == groups_.end() && groups_.size() >= config_.max_groups) {
    refuse(Refusal::kGroupsTotal);
    return false;
  }
  if (git != groups_.end() && git->second.size() >= config_.max_members_per_group) {
    refuse(Refusal::kMembersPerGroup);
    return false;
  }
  if (config_.max_groups_per_client == 0) {
    refuse(Refusal::kGroupsPerClient);
    return false;
  }
  Client& c = clients_[key];
  c.token = m.token;
  c.last_report = now;
  c.groups.push_back(Group{group, now});
  groups_[group].push_back(m);
  ++counters_.joins;
  return true;
}

void Membership::leave(const Member& m, std::uint32_t group, MonoTime now) {
  const auto it = clients_.find(client_key(m));
  if (it == clients_.end() || it->second.token != m.token) return;
  Client& c = it->second;
  c.last_report = now;
  const auto g = std::find_if(c.groups.begin(), c.groups.end(),
                              [group](const Group& x) { return x.group == group; });
  if (g == c.groups.end()) return;
  c.groups.erase(g);
  unlink(group, it->first);
  ++counters_.leaves;
  if (c.groups.empty()) clients_.erase(it);
}

void Membership::expire(MonoTime now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    Client& c = it->second;
    for (auto g = c.groups.begin(); g != c.groups.end();) {
      if (now - g->refreshed >= config_.timeout) {
        unlink(g->group, it->first);
        g = c.groups.erase(g);
        ++counters_.expired;
      } else {
        ++g;
      }
    }
    it = c.groups.empty() ? clients_.erase(it) : std::next(it);
  }
}

void Membership::remove_client(std::uint64_t key) {
  const auto it = clients_.find(key);
  if (it == clients_.end()) return;
  for (const Group& g : it->second.groups) unlink(g.group, key);
  clients_.erase(it);
  ++counters_.removed_clients;
}

void Membership::unlink(std::uint32_t group, std::uint64_t key) {
  const auto it = groups_.find(group);
  if (it == groups_.end()) return;
  auto& v = it->second;
  const auto m = std::find_if(v.begin(), v.end(),
                              [key](const Member& x) { return client_key(x) == key; });
  if (m != v.end()) {
    *m = v.back();
    v.pop_back();
  }
  if (v.empty()) groups_.erase(it);
}

const std::vector<Member>* Membership::members(std::uint32_t group) const noexcept {
  const auto it = groups_.find(group);
  return it == groups_.end() ? nullptr : &it->second;
}

const Membership::Client* Membership::client(std::uint64_t key) const noexcept {
  const auto it = clients_.find(key);
  return it == clients_.end() ? nullptr : &it->second;
}

std::size_t Membership::membership_count() const noexcept {
  std::size_t n = 0;
  for (const auto& [key, c] : clients_) n += c.groups.size();
  return n;
}

}  // namespace dmux::mcast
