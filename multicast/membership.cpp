#include "multicast/membership.h"

#include <algorithm>

namespace dmux::multicast {

std::string_view to_string(Refusal r) noexcept {
  switch (r) {
    case Refusal::kGroupsPerClient:
      return "groups_per_client";
    case Refusal::kClientsPerAddress:
      return "clients_per_address";
    case Refusal::kMembersPerGroup:
      return "members_per_group";
    case Refusal::kGroupsTotal:
      return "groups_total";
    case Refusal::kClientsTotal:
      return "clients_total";
    case Refusal::kCount_:
      break;
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
  }
  if (!admits(m.ipv4, it == clients_.end(), group)) return false;
  Client& c = clients_[key];
  c.token = m.token;
  c.last_report = now;
  c.groups.push_back(Group{group, now});
  groups_[group].push_back(m);
  AddressUse& use = addresses_[m.ipv4];
  use.clients += it == clients_.end() ? 1 : 0;
  ++use.memberships;
  ++counters_.joins;
  return true;
}

// Whether one more membership (of a new client if `new_client`) of `ipv4` in `group` fits every
// limit; counts the refusal if not.
bool Membership::admits(std::uint32_t ipv4, bool new_client, std::uint32_t group) noexcept {
  const auto a = addresses_.find(ipv4);
  const AddressUse use = a == addresses_.end() ? AddressUse{} : a->second;
  if (new_client && clients_.size() >= config_.max_clients) return refuse(Refusal::kClientsTotal);
  if (new_client && use.clients >= config_.max_clients_per_address)
    return refuse(Refusal::kClientsPerAddress);
  if (use.memberships >= config_.max_groups_per_client) return refuse(Refusal::kGroupsPerClient);
  const auto g = groups_.find(group);
  if (g == groups_.end() && groups_.size() >= config_.max_groups)
    return refuse(Refusal::kGroupsTotal);
  if (g != groups_.end() && g->second.size() >= config_.max_members_per_group)
    return refuse(Refusal::kMembersPerGroup);
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
  release(it->first, 1, c.groups.empty());
  if (c.groups.empty()) clients_.erase(it);
}

void Membership::expire(MonoTime now) {
  for (auto it = clients_.begin(); it != clients_.end();) {
    Client& c = it->second;
    std::size_t ended = 0;
    for (auto g = c.groups.begin(); g != c.groups.end();) {
      if (now - g->refreshed >= config_.timeout) {
        unlink(g->group, it->first);
        g = c.groups.erase(g);
        ++counters_.expired;
        ++ended;
      } else {
        ++g;
      }
    }
    if (ended != 0) release(it->first, ended, c.groups.empty());
    it = c.groups.empty() ? clients_.erase(it) : std::next(it);
  }
}

void Membership::remove_client(std::uint64_t key) {
  const auto it = clients_.find(key);
  if (it == clients_.end()) return;
  for (const Group& g : it->second.groups) unlink(g.group, key);
  release(key, it->second.groups.size(), true);
  clients_.erase(it);
  ++counters_.removed_clients;
}

void Membership::release(std::uint64_t key, std::size_t memberships, bool client_gone) noexcept {
  const auto a = addresses_.find(static_cast<std::uint32_t>(key >> 16));
  if (a == addresses_.end()) return;
  AddressUse& use = a->second;
  use.memberships -= std::min(use.memberships, memberships);
  if (client_gone && use.clients > 0) --use.clients;
  if (use.clients == 0) addresses_.erase(a);
}

void Membership::unlink(std::uint32_t group, std::uint64_t key) {
  const auto it = groups_.find(group);
  if (it == groups_.end()) return;
  auto& v = it->second;
  const auto m =
      std::find_if(v.begin(), v.end(), [key](const Member& x) { return client_key(x) == key; });
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

}  // namespace dmux::multicast
