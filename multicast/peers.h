// What a multicast router knows about the provider's other routers (its configured full mesh of
// peers): whether each is alive, which of its clients are members of which groups (from its last
// complete SUMMARY), and the replay window of its messages. Pure state, no I/O, no clock: callers
// pass `now`. Single-threaded. Summaries may allocate (control plane); has_group() is on the data
// path and neither allocates nor throws.
#pragma once

#include <bitset>
#include <chrono>
#include <cstdint>
#include <unordered_map>
#include <vector>

#include "common/net/endpoint.h"
#include "multicast/member.h"
#include "multicast/peer_wire.h"

namespace dmux::multicast {

struct RemoteClient {
  std::uint64_t token = 0;
  MonoTime report_time{};  // our estimate of the client's last report at the peer
  std::vector<std::uint32_t> groups;
};

struct Peer {
  net::Endpoint endpoint;  // its listen address and port: its identity
  bool alive = false;
  MonoTime last_heard{};
  std::uint64_t highest_seq = 0;  // replay window: the highest seq accepted ...
  std::uint64_t window = 0;       // ... and bit i set if highest_seq - i was accepted
  std::unordered_map<std::uint64_t, RemoteClient> clients;  // its last complete summary
  std::vector<std::uint32_t> groups;                        // its groups, sorted, unique
  // A summary being assembled from its parts (parts have consecutive seqs base, base + 1, ...).
  std::uint64_t pending_base = 0;
  std::uint8_t pending_parts = 0;
  std::bitset<256> pending_seen;
  std::unordered_map<std::uint64_t, RemoteClient> pending;
};

class PeerSet {
 public:
  PeerSet(const std::vector<net::Endpoint>& peers, std::chrono::milliseconds dead_after);

  [[nodiscard]] Peer* find(std::uint32_t ipv4, std::uint16_t port) noexcept;
  [[nodiscard]] std::vector<Peer>& peers() noexcept { return peers_; }
  [[nodiscard]] const std::vector<Peer>& peers() const noexcept { return peers_; }

  // Replay check: true (and recorded) if `seq` is above the highest accepted, or within the 64
  // below it and not seen yet.
  static bool accept_seq(Peer& p, std::uint64_t seq) noexcept;
  // An authenticated message arrived. True if the peer was dead (or never heard) and is now alive.
  static bool heard(Peer& p, MonoTime now) noexcept;
  // One part of a SUMMARY (already validated by `reader.init`). True if it completed a summary,
  // which then replaced the peer's view.
  static bool on_summary_part(Peer& p, const PeerHeader& h, SummaryReader& reader, MonoTime now);
  // Marks peers silent for longer than dead_after as dead (their view is kept for the caller to
  // look at, and cleared by forget()). Returns the indexes of peers that just died.
  std::vector<std::size_t> expire(MonoTime now);
  static void forget(Peer& p) noexcept;

  // Whether an alive peer has members of `group`.
  [[nodiscard]] static bool has_group(const Peer& p, std::uint32_t group) noexcept;

 private:
  std::vector<Peer> peers_;
  std::chrono::milliseconds dead_after_;
};

}  // namespace dmux::multicast
