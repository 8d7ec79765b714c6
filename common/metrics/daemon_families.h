// prometheus-cpp metric families shared by every daemon's metrics exporter (and only by them):
// DaemonInfo as dmux_build_info, dmux_start_time_seconds,
// dmux_certificate_expiry_timestamp_seconds and dmux_config_*; and the two helpers the exporters
// build their own families with.
#pragma once

#include <prometheus/metric_family.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "common/metrics/counter_list.h"
#include "common/metrics/daemon_info.h"

namespace dmux::metrics {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type);

// Appends one sample (a counter's or a gauge's value, by the family's type).
void add(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
         double value);

// A counter family with one unlabelled sample.
prometheus::MetricFamily counter(std::string name, std::string help, std::uint64_t value);

// A gauge family with one unlabelled sample.
prometheus::MetricFamily gauge(std::string name, std::string help, double value);

// A counter family with one sample per value of `Enum`, labelled {label = to_string(value)}:
// counts[i] is the count of Enum(i) (drops by reason, messages by result). `to_string` is found
// by argument-dependent lookup in the enum's namespace.
template <typename Enum, std::size_t N>
prometheus::MetricFamily by_label(std::string name, std::string help, const std::string& label,
                                  const std::array<std::uint64_t, N>& counts) {
  auto f = family(std::move(name), std::move(help), prometheus::MetricType::Counter);
  for (std::size_t i = 0; i < N; ++i) {
    add(f, {{label, std::string(to_string(static_cast<Enum>(i)))}}, static_cast<double>(counts[i]));
  }
  return f;
}

// A counter family for every field of the list (counter_list.h) that has a metric name.
template <typename S, std::size_t N>
void add_counter_families(std::vector<prometheus::MetricFamily>& out,
                          const CounterField<S> (&fields)[N], const S& s) {
  for (const CounterField<S>& f : fields) {
    if (f.metric != nullptr) out.push_back(counter(f.metric, f.help, s.*f.value));
  }
}

void add_daemon_families(const DaemonInfo& info, std::vector<prometheus::MetricFamily>& out);

}  // namespace dmux::metrics
