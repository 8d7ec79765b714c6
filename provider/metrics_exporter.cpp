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
  const DataPathCounters& c = s.counters;
  out.push_back(counter("dmux_provider_tunnels_received_total",
                        "Datagrams on the listen socket that are not registration replies",
                        c.tunnels_received));
  out.push_back(counter("dmux_provider_tunnel_bytes_received_total", "Bytes of those datagrams",
                        c.tunnel_bytes_received));
  out.push_back(counter("dmux_provider_delivered_packets_total",
                        "IPv6 packets written to the TUN device", c.delivered_to_tun));
  out.push_back(
      counter("dmux_provider_delivered_bytes_total", "Bytes of those packets", c.delivered_bytes));
  out.push_back(counter("dmux_provider_tun_packets_read_total",
                        "Packets the kernel routed into the TUN device", c.tun_packets_read));
  out.push_back(counter("dmux_provider_returned_packets_total", "RETURN datagrams sent to clients",
                        c.returned));
  out.push_back(counter("dmux_provider_returned_bytes_total", "IPv6 bytes in those RETURNs",
                        c.returned_bytes));
  out.push_back(counter("dmux_provider_solicitations_answered_total",
                        "Address offers (router advertisements) sent to clients",
                        c.solicitations_answered));
  out.push_back(counter("dmux_provider_bad_control_replies_total",
                        "Registration replies that did not parse", s.control_replies.bad));
  out.push_back(metrics::by_label<Drop>("dmux_provider_dropped_packets_total",
                                        "Packets dmux-provider itself dropped, by reason", "reason",
                                        c.drops));
  server_->publish(std::move(out));
}

}  // namespace dmux::provider
