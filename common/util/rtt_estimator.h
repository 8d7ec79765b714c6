// Round-trip time and loss of one measured path (gateway to gateway, or router to gateway).
//
// Robust to outliers: the estimate is the median of the last kWindow samples, so a single
// scheduling hiccup on these shared machines does not move it; a genuine change moves it once half
// the window agrees. Loss is the fraction of the last kLossWindow probes that went unanswered; a
// probe counts as lost once a newer one has been sent (the newest is in flight, not lost).
// Fed by event-named calls with the caller's clock; no clock or socket inside.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <optional>

namespace dmux::util {

class RttEstimator {
 public:
  static constexpr std::size_t kWindow = 15;
  static constexpr std::size_t kLossWindow = 64;

  // A probe went out (counted as lost if no reply has arrived when the next one goes out).
  void on_probe_sent() noexcept;
  // The reply to a probe arrived after `rtt`; `probes_ago` says which probe (0 = the latest sent,
  // 1 = the one before, ...). Replies older than the loss window only add an RTT sample.
  void on_probe_reply(std::chrono::microseconds rtt, std::size_t probes_ago = 0) noexcept;

  // Median of the recent samples; nullopt before the first sample.
  [[nodiscard]] std::optional<std::chrono::microseconds> rtt() const noexcept;
  // Fraction (0..1) of the last probes without a reply; 0 before any probe.
  [[nodiscard]] double loss() const noexcept;
  [[nodiscard]] std::size_t samples() const noexcept { return count_; }

 private:
  std::array<std::int64_t, kWindow> samples_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
  std::uint64_t answered_ = 0;  // bit i: probe i (newest = bit 0) was answered
  std::size_t probes_ = 0;      // probes sent, capped at kLossWindow
};

}  // namespace dmux::util
