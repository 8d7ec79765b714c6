#include "client/metrics_exporter.h"

#include <prometheus/metric_family.h>

#include <vector>

#include "common/metrics/daemon_families.h"
#include "common/metrics/family_server.h"

namespace dmux::client {
namespace {

using metrics::counter;
using prometheus::MetricFamily;

std::vector<MetricFamily> families(const MetricsSnapshot& s) {
  const DataPathCounters& c = s.counters;
  std::vector<MetricFamily> out;
  metrics::add_daemon_families(s.daemon, out);
  metrics::add_counter_families(out, kDataPathCounters, c);
  out.push_back(counter("dmux_client_solicitations_total",
                        "Router solicitations sent (address refresh and NAT keepalive)",
                        s.solicitations));
  out.push_back(counter("dmux_client_address_changes_total",
                        "Times the address the provider offered changed", s.address_changes));
  out.push_back(counter("dmux_client_token_requests_total",
                        "TOKEN_REQUESTs sent (return tokens asked for or refreshed)",
                        s.token_requests));
  out.push_back(counter("dmux_client_token_offers_total",
                        "TOKEN_OFFERs accepted (answering an outstanding request)",
                        s.token_offers));
  out.push_back(counter("dmux_client_binding_changes_total",
                        "TOKEN_OFFERs naming another client address:port (the NAT moved)",
                        s.binding_changes));
  out.push_back(metrics::by_label<Drop>("dmux_client_dropped_packets_total",
                                        "Packets and datagrams dropped, by reason", "reason",
                                        c.drops));
  return out;
}

}  // namespace

MetricsExporter::MetricsExporter(const net::Endpoint& listen)
    : server_(std::make_unique<metrics::FamilyServer>(listen)) {}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::update(const MetricsSnapshot& snapshot) {
  server_->publish(families(snapshot));
}

}  // namespace dmux::client
