// prometheus-cpp metric families shared by every daemon's metrics exporter (and only by them):
// DaemonInfo as dmux_build_info, dmux_start_time_seconds,
// dmux_certificate_expiry_timestamp_seconds and dmux_config_*; and the two helpers the exporters
// build their own families with.
#pragma once

#include <prometheus/metric_family.h>

#include <string>
#include <vector>

#include "common/metrics/daemon_info.h"

namespace dmux::metrics {

prometheus::MetricFamily family(std::string name, std::string help, prometheus::MetricType type);

// Appends one sample (a counter's or a gauge's value, by the family's type).
void add(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
         double value);

void add_daemon_families(const DaemonInfo& info, std::vector<prometheus::MetricFamily>& out);

}  // namespace dmux::metrics
