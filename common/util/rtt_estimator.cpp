#include "common/util/rtt_estimator.h"

#include <algorithm>
#include <bit>

namespace dmux::util {

void RttEstimator::on_probe_sent() noexcept {
  answered_ <<= 1;  // the new probe (bit 0) starts unanswered
  if (probes_ < kLossWindow) ++probes_;
}

void RttEstimator::on_probe_reply(std::chrono::microseconds rtt, std::size_t probes_ago) noexcept {
  if (probes_ago < kLossWindow) answered_ |= 1ULL << probes_ago;
  samples_[next_] = std::max<std::int64_t>(0, rtt.count());
  next_ = (next_ + 1) % kWindow;
  if (count_ < kWindow) ++count_;
}

std::optional<std::chrono::microseconds> RttEstimator::rtt() const noexcept {
  if (count_ == 0) return std::nullopt;
  std::array<std::int64_t, kWindow> sorted = samples_;
  auto* end = sorted.data() + count_;
  std::nth_element(sorted.data(), sorted.data() + count_ / 2, end);
  return std::chrono::microseconds(sorted[count_ / 2]);
}

double RttEstimator::loss() const noexcept {
  std::size_t probes = probes_;
  std::uint64_t answered = answered_;
  if (probes > 0 && (answered & 1) == 0) {  // the newest probe is in flight, not lost (yet)
    answered >>= 1;
    --probes;
  }
  if (probes == 0) return 0.0;
  const std::uint64_t mask = probes >= 64 ? ~0ULL : ((1ULL << probes) - 1);
  const auto n = static_cast<std::size_t>(std::popcount(answered & mask));
  return 1.0 - static_cast<double>(n) / static_cast<double>(probes);
}

}  // namespace dmux::util
