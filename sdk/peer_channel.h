// The authenticated channel between one provider's routers (docs/protocol.md 18) as pure logic:
// sealing outgoing messages with a growing sequence number, and checking incoming ones in the
// spec's order (parse, configured peer, provider and protocol, MAC, clock window, replay window),
// with peer liveness driven by the caller's clock. No sockets, no clock reads: the Router does the
// I/O and passes the time. Single-threaded. open() is the data path: noexcept, no allocation.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "common/net/endpoint.h"
#include "common/util/clock.h"
#include "sdk/peer_wire.h"

namespace dmux::sdk {

using util::MonoTime;

struct PeerChannelConfig {
  net::Endpoint self;                          // our listen endpoint: our identity in every message
  dmux::wire::ProtoId proto_id{};              // ours; peers must serve the same protocol
  dmux::wire::ProviderId provider_id{};        // ours; peers must be of the same provider
  std::vector<net::Endpoint> peers;            // the other routers (full mesh)
  std::chrono::milliseconds dead_after{3500};  // a peer silent this long is dead
  std::chrono::milliseconds max_clock_skew{30000};  // sent_us against our wall clock
};

// Why an incoming peer message was dropped, in the order checked.
enum class PeerDrop : std::uint8_t {
  kTruncated = 0,
  kMalformed,
  kUnsupportedVersion,
  kUnexpectedType,
  kUnknown,        // not a configured peer
  kWrongProvider,  // another provider or protocol
  kBadMac,
  kStale,     // sent_us outside the clock window
  kReplayed,  // seq at or below the window, or seen
  kCount_,
};
inline constexpr std::size_t kPeerDrops = static_cast<std::size_t>(PeerDrop::kCount_);
std::string_view to_string(PeerDrop d) noexcept;

struct PeerInfo {
  net::Endpoint endpoint;
  bool alive = false;
  MonoTime last_heard{};
  std::uint64_t highest_seq = 0;  // 0 = nothing accepted yet
  std::uint64_t seen = 0;         // bit i: highest_seq - i accepted
  std::uint64_t received = 0;     // authenticated messages, heartbeats included
};

class PeerChannel {
 public:
  // `start_unix_us` seeds the sequence (so it grows across restarts).
  PeerChannel(const PeerChannelConfig& config, const PeerKey& key, std::uint64_t start_unix_us);

  // Seals `payload` into `out`; returns the length, 0 if it does not fit.
  std::size_t seal(std::span<std::byte> out, std::span<const std::byte> payload,
                   std::uint64_t unix_us) noexcept;

  enum class Verdict : std::uint8_t { kDropped, kHeartbeat, kMessage };
  // An incoming datagram of type 34. On kMessage, `from` and `payload` are set; `became_alive` is
  // true when this message brought a dead peer back.
  Verdict open(std::span<const std::byte> datagram, MonoTime now, std::uint64_t unix_us,
               net::Endpoint& from, std::span<const std::byte>& payload,
               bool& became_alive) noexcept;

  // Marks peers silent for dead_after as dead; calls `on_dead` for each one that just died.
  template <typename Fn>
  void expire(MonoTime now, Fn&& on_dead) {
    for (PeerInfo& p : peers_) {
      if (p.alive && now - p.last_heard >= config_.dead_after) {
        p.alive = false;
        on_dead(p);
      }
    }
  }

  [[nodiscard]] const std::vector<PeerInfo>& peers() const noexcept { return peers_; }
  [[nodiscard]] const std::array<std::uint64_t, kPeerDrops>& drops() const noexcept {
    return drops_;
  }
  [[nodiscard]] std::uint64_t sent() const noexcept { return next_seq_ - first_seq_; }

 private:
  Verdict drop(PeerDrop d) noexcept {
    ++drops_[static_cast<std::size_t>(d)];
    return Verdict::kDropped;
  }
  static bool accept_seq(PeerInfo& p, std::uint64_t seq) noexcept;

  PeerChannelConfig config_;
  PeerKey key_;
  std::vector<PeerInfo> peers_;
  std::uint64_t first_seq_;
  std::uint64_t next_seq_;
  std::array<std::uint64_t, kPeerDrops> drops_{};
};

}  // namespace dmux::sdk
