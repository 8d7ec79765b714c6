#include "tools/loadgen/latency_summary.h"

#include <algorithm>
#include <cmath>

namespace dmux::loadgen {
namespace {

constexpr double kNsPerUs = 1000.0;

// Nearest rank: the smallest sample with at least p% of the samples at or below it.
double percentile_us(std::span<const std::int64_t> sorted, double p) noexcept {
  const auto n = static_cast<double>(sorted.size());
  auto rank = static_cast<std::size_t>(std::ceil(p / 100.0 * n));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return static_cast<double>(sorted[rank - 1]) / kNsPerUs;
}

}  // namespace

LatencySummary summarize(std::span<std::int64_t> rtt_ns) noexcept {
  LatencySummary s;
  if (rtt_ns.empty()) return s;
  std::sort(rtt_ns.begin(), rtt_ns.end());
  double sum = 0;
  for (const auto v : rtt_ns) sum += static_cast<double>(v);
  s.samples = rtt_ns.size();
  s.min_us = static_cast<double>(rtt_ns.front()) / kNsPerUs;
  s.max_us = static_cast<double>(rtt_ns.back()) / kNsPerUs;
  s.mean_us = sum / static_cast<double>(rtt_ns.size()) / kNsPerUs;
  s.p50_us = percentile_us(rtt_ns, 50);
  s.p90_us = percentile_us(rtt_ns, 90);
  s.p99_us = percentile_us(rtt_ns, 99);
  return s;
}

}  // namespace dmux::loadgen
