#include "gateway/metrics_exporter.h"

#include <prometheus/collectable.h>
#include <prometheus/exposer.h>
#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <utility>

#include "common/wire/protocols.h"

namespace dmux::gateway {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;

MetricFamily family(std::string name, std::string help, MetricType type) {
  MetricFamily f;
  f.name = std::move(name);
  f.help = std::move(help);
  f.type = type;
  return f;
}

void add(MetricFamily& f, std::vector<ClientMetric::Label> labels, double value) {
  ClientMetric m;
  m.label = std::move(labels);
  if (f.type == MetricType::Counter) {
    m.counter.value = value;
  } else {
    m.gauge.value = value;
  }
  f.metric.push_back(std::move(m));
}

template <typename Array>
MetricFamily per_protocol(const char* name, const char* help, const Array& values) {
  auto f = family(name, help, MetricType::Counter);
  for (std::size_t slot = 0; slot < values.size(); ++slot) {
    add(f, {{"protocol", std::string(wire::protocol_slot_name(slot))}},
        static_cast<double>(values[slot]));
  }
  return f;
}

}  // namespace

class MetricsExporter::Collectable : public prometheus::Collectable {
 public:
  explicit Collectable(StatsSource source) : source_(std::move(source)) {}

  std::vector<MetricFamily> Collect() const override {
    const GatewayStats s = source_();
    const CounterTotals& t = s.totals;
    std::vector<MetricFamily> out;
    out.push_back(per_protocol("dmux_gateway_received_packets_total",
                               "DATA datagrams received from clients, by shim protocol "
                               "(other = unassigned or unparsable)",
                               t.rx_packets));
    out.push_back(per_protocol("dmux_gateway_received_bytes_total",
                               "UDP payload bytes received from clients", t.rx_bytes));
    out.push_back(per_protocol("dmux_gateway_forwarded_packets_total",
                               "TUNNEL datagrams sent to routers", t.tx_packets));
    out.push_back(per_protocol("dmux_gateway_forwarded_bytes_total",
                               "UDP payload bytes sent to routers", t.tx_bytes));

    auto drops = family("dmux_gateway_dropped_packets_total",
                        "Datagrams dropped by the data plane, by reason", MetricType::Counter);
    for (std::size_t r = 0; r < kDropReasons; ++r) {
      add(drops, {{"reason", std::string(to_string(static_cast<DropReason>(r)))}},
          static_cast<double>(t.drops[r]));
    }
    out.push_back(std::move(drops));

    auto overflow = family("dmux_gateway_receive_buffer_dropped_packets_total",
                           "Datagrams the kernel dropped before dmuxd read them (socket receive "
                           "buffer full); not included in received_packets",
                           MetricType::Counter);
    add(overflow, {}, static_cast<double>(t.socket_overflows));
    out.push_back(std::move(overflow));

    auto routers =
        family("dmux_gateway_routers", "Routers in the forwarding table", MetricType::Gauge);
    std::map<std::pair<std::string, std::string>, double> counts;
    if (s.table) {
      for (const auto& r : s.table->routers()) {
        counts[{wire::protocol_name(r.proto_id), std::string(to_string(r.origin))}] += 1;
      }
    }
    for (const auto& [key, n] : counts) {
      add(routers, {{"origin", key.second}, {"protocol", key.first}}, n);
    }
    out.push_back(std::move(routers));

    if (s.registration) {
      const auto& rc = s.registration->counters;
      auto regs = family("dmux_gateway_registrations_total",
                         "REGISTER messages by result (accepted or the reason for refusal)",
                         MetricType::Counter);
      for (std::size_t i = 0; i < registry::kRegisterOutcomes; ++i) {
        add(regs,
            {{"result",
              std::string(registry::to_string(static_cast<registry::RegisterOutcome>(i)))}},
            static_cast<double>(rc.registers[i]));
      }
      out.push_back(std::move(regs));
      auto kas = family("dmux_gateway_keepalives_total",
                        "KEEPALIVE and DEREGISTER messages by result", MetricType::Counter);
      for (std::size_t i = 0; i < registry::kKeepaliveOutcomes; ++i) {
        add(kas,
            {{"result",
              std::string(registry::to_string(static_cast<registry::KeepaliveOutcome>(i)))}},
            static_cast<double>(rc.keepalives[i]));
      }
      out.push_back(std::move(kas));
      std::size_t suppressed = 0;
      for (const auto& r : s.registration->routers) suppressed += r.suppressed ? 1 : 0;
      auto damped =
          family("dmux_gateway_suppressed_routers",
                 "Registered routers currently suppressed by flap dampening", MetricType::Gauge);
      add(damped, {}, static_cast<double>(suppressed));
      out.push_back(std::move(damped));
    }

    auto workers = family("dmux_gateway_workers", "Data-plane worker threads", MetricType::Gauge);
    add(workers, {}, static_cast<double>(s.workers));
    out.push_back(std::move(workers));

    auto start = family("dmux_gateway_start_time_seconds", "Unix time the gateway started",
                        MetricType::Gauge);
    add(start, {}, s.start_time_seconds);
    out.push_back(std::move(start));
    return out;
  }

 private:
  StatsSource source_;
};

MetricsExporter::MetricsExporter(const net::Endpoint& listen, StatsSource source)
    : collectable_(std::make_shared<Collectable>(std::move(source))),
      exposer_(std::make_unique<prometheus::Exposer>(listen.to_string(), 2)) {
  exposer_->RegisterCollectable(collectable_);
}

MetricsExporter::~MetricsExporter() {
  if (exposer_) exposer_->RemoveCollectable(collectable_);
}

std::vector<int> MetricsExporter::listening_ports() const { return exposer_->GetListeningPorts(); }

}  // namespace dmux::gateway
