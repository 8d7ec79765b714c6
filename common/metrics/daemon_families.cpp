#include "common/metrics/daemon_families.h"

#include <utility>

#include "common/util/version.h"

namespace dmux::metrics {

using prometheus::MetricType;

prometheus::MetricFamily family(std::string name, std::string help, MetricType type) {
  prometheus::MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add(prometheus::MetricFamily& f, std::vector<prometheus::ClientMetric::Label> labels,
         double value) {
  prometheus::ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

prometheus::MetricFamily counter(std::string name, std::string help, std::uint64_t value) {
  auto f = family(std::move(name), std::move(help), MetricType::Counter);
  add(f, {}, static_cast<double>(value));
  return f;
}

prometheus::MetricFamily gauge(std::string name, std::string help, double value) {
  auto f = family(std::move(name), std::move(help), MetricType::Gauge);
  add(f, {}, value);
  return f;
}

void add_daemon_families(const DaemonInfo& info, std::vector<prometheus::MetricFamily>& out) {
  auto build = family("dmux_build_info",
                      "Always 1; labels name the daemon, its release and its wire protocol version",
                      MetricType::Gauge);
  add(build,
      {{"daemon", info.daemon},
       {"version", std::string(build::kVersion)},
       {"wire_version", std::to_string(wire::kVersion)}},
      1);
  out.push_back(std::move(build));

  auto start = family("dmux_start_time_seconds", "Unix time the daemon started", MetricType::Gauge);
  add(start, {{"daemon", info.daemon}}, info.start_time_seconds);
  out.push_back(std::move(start));

  auto expiry =
      family("dmux_certificate_expiry_timestamp_seconds",
             "Unix time each certificate the daemon uses stops being valid", MetricType::Gauge);
  for (const auto& c : info.certificates) {
    add(expiry, {{"daemon", info.daemon}, {"certificate", c.certificate}}, c.not_after_seconds);
  }
  out.push_back(std::move(expiry));

  if (!info.reload) return;
  auto ok = family("dmux_config_last_reload_successful",
                   "1 if the latest reload (SIGHUP) re-read the configuration, 0 if it was refused",
                   MetricType::Gauge);
  add(ok, {{"daemon", info.daemon}}, info.reload->last_successful ? 1 : 0);
  out.push_back(std::move(ok));
  auto when =
      family("dmux_config_last_reload_success_timestamp_seconds",
             "Unix time of the latest good reload (the start time if none yet)", MetricType::Gauge);
  add(when, {{"daemon", info.daemon}}, info.reload->last_success_seconds);
  out.push_back(std::move(when));
  auto failures =
      family("dmux_config_reload_failures_total",
             "Reloads refused since start (the running configuration stayed)", MetricType::Counter);
  add(failures, {{"daemon", info.daemon}}, static_cast<double>(info.reload->failures));
  out.push_back(std::move(failures));
}

}  // namespace dmux::metrics
