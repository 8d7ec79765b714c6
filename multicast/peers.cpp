#include "multicast/peers.h"

#include <algorithm>

namespace dmux::multicast {

PeerSet::PeerSet(const std::vector<net::Endpoint>& peers, std::chrono::milliseconds dead_after)
    : dead_after_(dead_after) {
  for (const auto& ep : peers) {
    Peer p;
    p.endpoint = ep;
    peers_.push_back(std::move(p));
  }
}

Peer* PeerSet::find(std::uint32_t ipv4, std::uint16_t port) noexcept {
  for (Peer& p : peers_) {
    if (p.endpoint.addr == ipv4 && p.endpoint.port == port) return &p;
  }
  return nullptr;
}

bool PeerSet::accept_seq(Peer& p, std::uint64_t seq) noexcept {
  if (seq > p.highest_seq) {
    const std::uint64_t shift = seq - p.highest_seq;
    p.window = shift >= 64 ? 1 : (p.window << shift) | 1;
    p.highest_seq = seq;
    return true;
  }
  const std::uint64_t behind = p.highest_seq - seq;
  if (behind >= 64) return false;
  const std::uint64_t bit = std::uint64_t{1} << behind;
  if (p.window & bit) return false;
  p.window |= bit;
  return true;
}

bool PeerSet::heard(Peer& p, MonoTime now) noexcept {
  p.last_heard = now;
  const bool was_dead = !p.alive;
  p.alive = true;
  return was_dead;
}

bool PeerSet::on_summary_part(Peer& p, const PeerHeader& h, SummaryReader& reader, MonoTime now) {
  const std::uint64_t base = h.seq - h.part;
  if (base != p.pending_base || h.parts != p.pending_parts) {
    p.pending_base = base;
    p.pending_parts = h.parts;
    p.pending_seen.reset();
    p.pending.clear();
  }
  if (p.pending_seen.test(h.part)) return false;
  p.pending_seen.set(h.part);
  SummaryEntry e;
  while (reader.next(e)) {
    RemoteClient& c = p.pending[client_key(e.client)];
    c.token = e.client.token;
    c.report_time = now - std::chrono::milliseconds(e.age_ms);
    c.groups.clear();
    for (std::size_t i = 0; i < e.group_count; ++i) c.groups.push_back(e.group(i));
  }
  if (p.pending_seen.count() != p.pending_parts) return false;
  p.clients = std::move(p.pending);
  p.pending.clear();
  p.pending_seen.reset();
  p.pending_parts = 0;
  p.groups.clear();
  for (const auto& [key, c] : p.clients)
    p.groups.insert(p.groups.end(), c.groups.begin(), c.groups.end());
  std::sort(p.groups.begin(), p.groups.end());
  p.groups.erase(std::unique(p.groups.begin(), p.groups.end()), p.groups.end());
  return true;
}

std::vector<std::size_t> PeerSet::expire(MonoTime now) {
  std::vector<std::size_t> died;
  for (std::size_t i = 0; i < peers_.size(); ++i) {
    Peer& p = peers_[i];
    if (p.alive && now - p.last_heard > dead_after_) {
      p.alive = false;
      died.push_back(i);
    }
  }
  return died;
}

void PeerSet::forget(Peer& p) noexcept {
  p.clients.clear();
  p.groups.clear();
  p.pending.clear();
  p.pending_seen.reset();
  p.pending_parts = 0;
}

bool PeerSet::has_group(const Peer& p, std::uint32_t group) noexcept {
  return p.alive && std::binary_search(p.groups.begin(), p.groups.end(), group);
}

}  // namespace dmux::multicast
