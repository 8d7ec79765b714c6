// Who a gateway dials (docs/protocol.md 12.1, 12.4): its configured seeds, and the gateways its
// authenticated peers vouch for in PEERS, nobody else. A PEERS frame replaces what its sender
// vouched for; a vouched gateway that no peer lists any more is forgotten; at most
// `max_vouched` vouched gateways in all and `max_per_voucher` from one peer; dials are retried
// with exponential backoff and at most `max_dials` are in progress at once, so a lying peer can
// neither make this gateway dial without end nor use up its sockets. Pure: the caller reports
// events with its clock and asks what to dial.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <vector>

#include "common/net/endpoint.h"
#include "common/wire/mesh.h"

namespace dmux::mesh {

struct DirectoryConfig {
  std::chrono::milliseconds seed_backoff_min{250};
  std::chrono::milliseconds seed_backoff_max{5000};
  std::chrono::milliseconds vouched_backoff_max{60000};
  std::size_t max_vouched = 64;
  std::size_t max_per_voucher = 64;
  std::size_t max_dials = 4;
};

struct DirectoryCounters {
  std::uint64_t vouched = 0;   // entries taken from PEERS frames
  std::uint64_t ignored = 0;   // entries over a cap (peers_ignored)
  std::uint64_t mismatch = 0;  // a dialled endpoint presented another gateway (peers_mismatch)
};

class PeerDirectory {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  PeerDirectory(const DirectoryConfig& config, std::uint32_t self_id, net::Endpoint self)
      : config_(config), self_id_(self_id), self_(self) {}

  void add_seed(const net::Endpoint& ep);
  // A PEERS frame from authenticated peer `voucher`.
  void on_peers(std::uint32_t voucher, std::span<const wire::mesh::Peer> peers);
  // `voucher`'s link went down: what it vouched for no longer counts.
  void on_voucher_gone(std::uint32_t voucher);

  // Endpoints to dial now (each then counts as in progress until on_dial_done). `linked(id)`
  // says whether a gateway already has a link (it is not dialled again).
  template <typename Linked>
  std::vector<net::Endpoint> due(TimePoint now, Linked&& linked);
  // A dial to `ep` ended: authenticated as `peer_id` (nullopt: failed before that).
  void on_dial_done(const net::Endpoint& ep, std::optional<std::uint32_t> peer_id, TimePoint now);
  // `ep` turned out to be this gateway itself: never dialled again.
  void mark_self(const net::Endpoint& ep);

  struct Target {
    std::optional<std::uint32_t> gateway_id;  // expected (vouched) or learnt (seed)
    bool seed = false;
    bool self = false;
    std::set<std::uint32_t> vouchers;
    bool dialling = false;
    TimePoint next_attempt{};
    std::chrono::milliseconds backoff{};
  };
  [[nodiscard]] const std::map<net::Endpoint, Target>& targets() const noexcept { return targets_; }
  [[nodiscard]] const DirectoryCounters& counters() const noexcept { return counters_; }

 private:
  std::size_t vouched_count() const noexcept;
  void forget_unvouched();
  [[nodiscard]] std::chrono::milliseconds max_backoff(const Target& t) const noexcept {
    return t.seed ? config_.seed_backoff_max : config_.vouched_backoff_max;
  }

  DirectoryConfig config_;
  std::uint32_t self_id_;
  net::Endpoint self_;
  std::map<net::Endpoint, Target> targets_;
  std::size_t dialling_ = 0;
  DirectoryCounters counters_;
};

template <typename Linked>
std::vector<net::Endpoint> PeerDirectory::due(TimePoint now, Linked&& linked) {
  std::vector<net::Endpoint> out;
  for (auto& [ep, t] : targets_) {
    if (dialling_ >= config_.max_dials) break;
    if (t.self || t.dialling || now < t.next_attempt) continue;
    if (t.gateway_id && linked(*t.gateway_id)) continue;
    t.dialling = true;
    ++dialling_;
    t.next_attempt = now + t.backoff;
    t.backoff = std::min(t.backoff * 2, max_backoff(t));
    out.push_back(ep);
  }
  return out;
}

}  // namespace dmux::mesh
