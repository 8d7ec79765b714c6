// Decides whether this PoP announces the dmux-prefix, and with which metric.
//
//   withdrawn --(rise good samples)--> announced --(fall bad samples)--> withdrawn
//   announced --drain()--> draining (drain metric: FRR sends it with the graceful-shutdown
//   community, RFC 8326) --(drain_withdraw elapsed)--> drained (no route) --undrain()--> announced
//
// Health and drain are independent: an unhealthy gateway holds no route whatever the drain state,
// and a drained one holds none however healthy. Route changes are make-before-break (the new
// metric is installed before the old one is removed), so the prefix never flaps during a drain.
// A failed kernel operation is retried on the next sample. A route removed from outside
// (dmux-healthcheck, while this process was frozen) is noticed at the next sample and counts as
// unhealthy until `rise` good samples. Single-threaded (control thread);
// time is passed in.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "bgp-glue/announce_config.h"
#include "bgp-glue/route_control.h"

namespace dmux::bgp_glue {

using TimePoint = std::chrono::steady_clock::time_point;

enum class AnnounceState : std::uint8_t { kWithdrawn, kAnnounced, kDraining, kDrained };
std::string_view to_string(AnnounceState s) noexcept;

struct AnnounceSnapshot {
  AnnounceState state = AnnounceState::kWithdrawn;
  bool healthy = false;
  bool drain_requested = false;
  std::optional<std::uint32_t> installed_metric;  // the route in the kernel, if any
  std::uint64_t transitions = 0;                  // route changes (add, replace, remove)
  std::uint64_t route_failures = 0;               // kernel operations that failed
  std::uint64_t bad_samples = 0;                  // health samples that failed, ever
  std::uint64_t external_withdrawals = 0;         // route found removed by someone else
  double drain_remaining_seconds = 0;             // while draining: time to withdrawal
};

class Announcer {
 public:
  Announcer(const AnnounceConfig& config, RouteControl& routes);

  // One health sample per health_interval; applies the resulting route.
  void on_health_sample(bool good, TimePoint now) noexcept;
  // Operator drain: graceful shutdown now, withdrawal after drain_withdraw. Idempotent.
  void drain(TimePoint now) noexcept;
  // Back to a plain announcement (if healthy). Idempotent.
  void undrain(TimePoint now) noexcept;
  // Withdraws at once, whatever the state (shutdown after the drain, or a fatal error).
  void withdraw_now() noexcept;

  [[nodiscard]] AnnounceState state(TimePoint now) const noexcept;
  [[nodiscard]] AnnounceSnapshot snapshot(TimePoint now) const noexcept;

 private:
  [[nodiscard]] std::optional<std::uint32_t> wanted_metric(TimePoint now) const noexcept;
  void apply(TimePoint now) noexcept;

  AnnounceConfig config_;
  RouteControl& routes_;
  bool healthy_ = false;
  unsigned good_run_ = 0;
  unsigned bad_run_ = 0;
  bool drain_requested_ = false;
  bool forced_down_ = false;
  TimePoint drain_since_{};
  std::optional<std::uint32_t> installed_;
  std::uint64_t transitions_ = 0;
  std::uint64_t failures_ = 0;
  std::uint64_t bad_samples_ = 0;
  std::uint64_t external_withdrawals_ = 0;
};

}  // namespace dmux::bgp_glue
