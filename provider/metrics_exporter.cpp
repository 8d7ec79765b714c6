#include "provider/metrics_exporter.h"

#include "agent/agent_families.h"
#include "common/metrics/daemon_families.h"
#include "common/metrics/family_server.h"

namespace dmux::provider {

using metrics::counter;

MetricsExporter::MetricsExporter(const net::Endpoint& listen)
    : server_(std::make_unique<metrics::FamilyServer>(listen)) {}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::update(const ProviderSample& s) {
  std::vector<prometheus::MetricFamily> out;
  agent::add_agent_families(s.agent, "dmux_provider", out);
  metrics::add_counter_families(out, kDataPathCounters, s.counters);
  out.push_back(counter("dmux_provider_bad_control_replies_total",
                        "Registration replies that did not parse", s.control_replies.bad));
  out.push_back(metrics::by_label<Drop>("dmux_provider_dropped_packets_total",
                                        "Packets dmux-provider itself dropped, by reason", "reason",
                                        s.counters.drops));
  server_->publish(std::move(out));
}

}  // namespace dmux::provider
