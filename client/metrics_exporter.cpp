#include "client/metrics_exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/metric_family.h>
#include <prometheus/text_serializer.h>

#include <mutex>
#include <string>
#include <vector>

#include "common/metrics/daemon_families.h"
#include "common/metrics/http_server.h"

namespace dmux::client {
namespace {

using metrics::counter;
using prometheus::MetricFamily;

}  // namespace

class MetricsExporter::Collectable : public prometheus::Collectable {
 public:
  void update(const MetricsSnapshot& s) {
    std::lock_guard lock(mu_);
    snapshot_ = s;
  }

  std::vector<MetricFamily> Collect() const override {
    MetricsSnapshot s;
    {
      std::lock_guard lock(mu_);
      s = snapshot_;
    }
    const DataPathCounters& c = s.counters;
    std::vector<MetricFamily> out;
    metrics::add_daemon_families(s.daemon, out);
    out.push_back(counter("dmux_client_captured_packets_total", "Packets read from the TUN device",
                          c.captured));
    out.push_back(counter("dmux_client_captured_bytes_total", "Bytes of the captured packets",
                          c.captured_bytes));
    out.push_back(counter("dmux_client_tunnelled_packets_total",
                          "DATA datagrams sent to the gateway", c.tunnelled));
    out.push_back(
        counter("dmux_client_tunnelled_bytes_total", "IPvN bytes tunnelled", c.tunnelled_bytes));
    out.push_back(
        counter("dmux_client_returns_total", "Datagrams received on the tunnel socket", c.returns));
    out.push_back(counter("dmux_client_injected_packets_total",
                          "Packets injected into the host stack", c.injected));
    out.push_back(counter("dmux_client_injected_bytes_total", "Bytes injected into the host stack",
                          c.injected_bytes));
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

 private:
  mutable std::mutex mu_;
  MetricsSnapshot snapshot_;
};

MetricsExporter::MetricsExporter(const net::Endpoint& listen)
    : collectable_(std::make_shared<Collectable>()) {
  auto collectable = collectable_;
  server_ = std::make_unique<metrics::HttpServer>(listen, [collectable] {
    return prometheus::TextSerializer().Serialize(collectable->Collect());
  });
}

MetricsExporter::~MetricsExporter() = default;

void MetricsExporter::update(const MetricsSnapshot& snapshot) { collectable_->update(snapshot); }

}  // namespace dmux::client
