// Soft state of the routers registered at this gateway.
//
// Event-named calls report what happened (on_register, on_keepalive, on_deregister) and expire(now)
// decides what has timed out; nothing here reads a clock or a socket. Withdrawn routers are
// remembered (state kWithdrawn) for their dampening penalty and replay timestamp until both are
// worthless. Control thread only.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <unordered_map>
#include <vector>

#include "common/net/endpoint.h"
#include "registry/clock.h"
#include "registry/dampening.h"

namespace dmux::registry {

using SessionKey = std::array<std::byte, 32>;

struct RouterKey {
  std::uint32_t provider_id = 0;
  std::uint16_t proto_id = 0;
  net::Endpoint address;
  auto operator<=>(const RouterKey&) const = default;
};

struct RegistryConfig {
  std::chrono::milliseconds keepalive_interval{5000};  // told to agents in REGISTER_ACK
  std::chrono::milliseconds hold_time{15000};          // silence after which a router is removed
  std::size_t max_routers = 10000;                     // registered (up) routers in total
  std::size_t max_routers_per_provider = 64;
  DampeningConfig dampening;
};

enum class AdmitResult : std::uint8_t { kAccepted, kLimitReached, kSuppressed, kReplayed };
enum class RouterState : std::uint8_t { kUp, kWithdrawn };

struct Session {
  std::uint64_t id = 0;
  SessionKey key{};
  std::uint64_t last_counter = 0;
  RouterKey router;
};

// What dmuxctl shows about one router.
struct RouterStatus {
  RouterKey key;
  RouterState state = RouterState::kUp;
  bool suppressed = false;
  double penalty = 0;
  Duration age{};           // since it (last) registered
  Duration since_heard{};   // since its last REGISTER or KEEPALIVE
  std::uint32_t flaps = 0;  // withdrawals seen
};

class RouterRegistry {
 public:
  explicit RouterRegistry(const RegistryConfig& config) : config_(config) {}

  // An authenticated REGISTER for `key`, signed at `timestamp_us`. On kAccepted the router is up
  // with a new session (replacing any previous one of the same router).
  AdmitResult on_register(const RouterKey& key, std::uint64_t timestamp_us, const Session& session,
                          TimePoint now);
  // Looks up a session for MAC verification (nullptr if unknown).
  [[nodiscard]] const Session* session(std::uint64_t id) const;
  // An authenticated KEEPALIVE. False if the counter is not above the last one (replay).
  bool on_keepalive(std::uint64_t session_id, std::uint64_t counter, TimePoint now);
  // An authenticated DEREGISTER. False if the counter is a replay.
  bool on_deregister(std::uint64_t session_id, std::uint64_t counter, TimePoint now);
  // Withdraws routers silent for hold_time and forgets dead state. Returns how many withdrew.
  std::size_t expire(TimePoint now);

  // Routers currently up, sorted.
  [[nodiscard]] std::vector<RouterKey> up_routers() const;
  [[nodiscard]] std::vector<RouterStatus> status(TimePoint now);
  // Bumped whenever the set of up routers changes.
  [[nodiscard]] std::uint64_t version() const noexcept { return version_; }
  [[nodiscard]] const RegistryConfig& config() const noexcept { return config_; }

 private:
  struct Router {
    RouterState state = RouterState::kWithdrawn;
    std::uint64_t session_id = 0;
    std::uint64_t last_timestamp_us = 0;
    TimePoint registered_at{};
    TimePoint last_heard{};
    TimePoint withdrawn_at{};
    Dampening dampening;
    std::uint32_t flaps = 0;
  };
  void withdraw(Router& r, TimePoint now);
  [[nodiscard]] std::size_t up_for_provider(std::uint32_t provider_id) const;

  RegistryConfig config_;
  std::map<RouterKey, Router> routers_;
  std::unordered_map<std::uint64_t, Session> sessions_;
  std::size_t up_count_ = 0;
  std::uint64_t version_ = 0;
};

}  // namespace dmux::registry
