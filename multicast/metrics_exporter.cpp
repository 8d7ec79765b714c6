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
  const RouterCounters& c = s.counters;
  out.push_back(counter("dmux_mcast_tunnels_received_total", "TUNNEL datagrams received",
                        c.tunnels_received));
  out.push_back(counter("dmux_mcast_igmp_messages_total", "IGMP reports and leaves acted on",
                        c.igmp_messages));
  out.push_back(counter("dmux_mcast_group_packets_total",
                        "Multicast data packets from this router's clients", c.group_packets));
  out.push_back(counter("dmux_mcast_no_receivers_total",
                        "Group packets that reached no member and no peer", c.no_receivers));
  out.push_back(counter("dmux_mcast_delivered_packets_total",
                        "RETURNs with group data sent to members", c.delivered));
  out.push_back(counter("dmux_mcast_delivered_bytes_total", "IPv4 bytes in those RETURNs",
                        c.delivered_bytes));
  out.push_back(counter("dmux_mcast_forwarded_to_peers_total", "GROUP_DATA sent to peer routers",
                        c.forwarded));
  out.push_back(counter("dmux_mcast_from_peers_total", "GROUP_DATA accepted from peer routers",
                        c.from_peers));
  out.push_back(counter("dmux_mcast_peer_deaths_total", "Peers declared dead (members adopted)",
                        c.peer_deaths));
  out.push_back(metrics::by_label<Drop>(
      "dmux_mcast_dropped_packets_total",
      "Packets and peer messages dmux-mcast itself dropped, by reason", "reason", c.drops));
  auto groups = metrics::family("dmux_mcast_groups", "Groups with local members",
                                prometheus::MetricType::Gauge);
  metrics::add(groups, {}, static_cast<double>(s.groups));
  out.push_back(std::move(groups));
  auto members = metrics::family("dmux_mcast_memberships", "(client, group) memberships held here",
                                 prometheus::MetricType::Gauge);
  metrics::add(members, {}, static_cast<double>(s.memberships));
  out.push_back(std::move(members));
  auto peers =
      metrics::family("dmux_mcast_peer_up", "1 if the peer router (--peer) is alive, else 0",
                      prometheus::MetricType::Gauge);
  for (const auto& p : s.peers)
    metrics::add(peers, {{"peer", p.peer.to_string()}}, p.alive ? 1 : 0);
  out.push_back(std::move(peers));
  server_->publish(std::move(out));
}

}  // namespace dmux::multicast
