#include "multicast/metrics_exporter.h"

#include "agent/agent_families.h"
#include "common/metrics/daemon_families.h"
#include "common/metrics/family_server.h"

namespace dmux::multicast {

using metrics::counter;

MetricsExporter::MetricsExporter(const net::Endpoint& listen)
    : server_(std::make_unique<metrics::FamilyServer>(listen)) {}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::update(const McastSample& s) {
  std::vector<prometheus::MetricFamily> out;
  agent::add_agent_families(s.agent, "dmux_mcast", out);
  metrics::add_counter_families(out, kRouterCounters, s.counters);
  out.push_back(
      metrics::by_label<Drop>("dmux_mcast_dropped_packets_total",
                              "Packets and peer messages dmux-mcast itself dropped, by reason",
                              "reason", s.counters.drops));
  out.push_back(metrics::gauge("dmux_mcast_groups", "Groups with local members",
                               static_cast<double>(s.groups)));
  out.push_back(metrics::gauge("dmux_mcast_memberships", "(client, group) memberships held here",
                               static_cast<double>(s.memberships)));
  auto peers =
      metrics::family("dmux_mcast_peer_up", "1 if the peer router (--peer) is alive, else 0",
                      prometheus::MetricType::Gauge);
  for (const auto& p : s.peers)
    metrics::add(peers, {{"peer", p.peer.to_string()}}, p.alive ? 1 : 0);
  out.push_back(std::move(peers));
  server_->publish(std::move(out));
}

}  // namespace dmux::multicast
