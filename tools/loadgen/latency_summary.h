// Summary statistics of round-trip samples. Run once after measuring, not on the data path.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::loadgen {

struct LatencySummary {
  std::size_t samples = 0;
  double min_us = 0;
  double mean_us = 0;
  double p50_us = 0;
  double p90_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// Nearest-rank percentiles of `rtt_ns`; sorts it in place. All zero if empty.
LatencySummary summarize(std::span<std::int64_t> rtt_ns) noexcept;

}  // namespace dmux::loadgen
