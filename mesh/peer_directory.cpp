#include "mesh/peer_directory.h"

#include <algorithm>

namespace dmux::mesh {

void PeerDirectory::add_seed(const net::Endpoint& ep) {
  if (ep.port == 0 || ep == self_) return;
  auto [it, inserted] = targets_.try_emplace(ep);
  if (inserted) it->second.backoff = config_.seed_backoff_min;
  it->second.seed = true;
}

std::size_t PeerDirectory::vouched_count() const noexcept {
  return static_cast<std::size_t>(
      std::count_if(targets_.begin(), targets_.end(),
                    [](const auto& kv) { return !kv.second.seed && !kv.second.vouchers.empty(); }));
}

void PeerDirectory::on_peers(std::uint32_t voucher, std::span<const wire::mesh::Peer> peers) {
  for (auto& [ep, t] : targets_) t.vouchers.erase(voucher);  // replaces its previous list
  std::size_t taken = 0;
  for (const auto& p : peers) {
    if (p.gateway_id.value() == self_id_ || p.gateway_id.value() == voucher ||
        p.mesh_listen.addr == 0 || p.mesh_listen.port == 0 || p.mesh_listen == self_) {
      continue;  // itself, us, or nowhere
    }
    auto it = targets_.find(p.mesh_listen);
    const bool known = it != targets_.end();
    if (taken >= config_.max_per_voucher || (!known && vouched_count() >= config_.max_vouched)) {
      ++counters_.ignored;
      continue;
    }
    if (!known) {
      it = targets_.emplace(p.mesh_listen, Target{}).first;
      it->second.backoff = config_.seed_backoff_min;
      it->second.gateway_id = p.gateway_id.value();
    }
    if (!it->second.seed && it->second.gateway_id != p.gateway_id.value()) {
      ++counters_.ignored;  // two claims for one endpoint: keep the first
      continue;
    }
    it->second.vouchers.insert(voucher);
    ++taken;
    ++counters_.vouched;
  }
  forget_unvouched();
}

void PeerDirectory::on_voucher_gone(std::uint32_t voucher) {
  for (auto& [ep, t] : targets_) t.vouchers.erase(voucher);
  forget_unvouched();
}

void PeerDirectory::forget_unvouched() {
  for (auto it = targets_.begin(); it != targets_.end();) {
    const Target& t = it->second;
    if (!t.seed && t.vouchers.empty() && !t.dialling) {
      it = targets_.erase(it);
    } else {
      ++it;
    }
  }
}

void PeerDirectory::on_dial_done(const net::Endpoint& ep, std::optional<std::uint32_t> peer_id,
                                 TimePoint now) {
  auto it = targets_.find(ep);
  if (it == targets_.end()) return;
  Target& t = it->second;
  if (t.dialling) {
    t.dialling = false;
    --dialling_;
  }
  if (peer_id) {
    if (!t.seed && t.gateway_id && *t.gateway_id != *peer_id) {
      ++counters_.mismatch;  // vouched for as someone else: a peer's lie or a stale entry
      targets_.erase(it);
      return;
    }
    t.gateway_id = peer_id;
    t.backoff = config_.seed_backoff_min;
    t.next_attempt = now;
  }
  forget_unvouched();
}

void PeerDirectory::mark_self(const net::Endpoint& ep) {
  auto it = targets_.find(ep);
  if (it != targets_.end()) it->second.self = true;
}

}  // namespace dmux::mesh
