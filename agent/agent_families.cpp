#include "agent/agent_families.h"

#include <utility>

#include "common/metrics/daemon_families.h"
#include "common/wire/protocols.h"

namespace dmux::agent {

using metrics::add;
using metrics::counter;
using metrics::family;
using prometheus::MetricType;

namespace {

void add_registrations(const AgentSample& s, const std::string& prefix,
                       std::vector<prometheus::MetricFamily>& out) {
  auto up = family(prefix + "_registered",
                   "1 while the registration for the protocol is accepted and kept alive, else 0",
                   MetricType::Gauge);
  auto events = family(prefix + "_registration_messages_total",
                       "Registration messages sent and answers received, by protocol and event",
                       MetricType::Counter);
  for (const auto& r : s.registrations) {
    const std::string proto = wire::protocol_name(r.proto_id);
    add(up, {{"protocol", proto}}, r.registered ? 1 : 0);
    const RegistrationCounters& c = r.counters;
    for (const auto& [event, n] : {std::pair{"register_sent", c.registers_sent},
                                   {"accepted", c.registrations},
                                   {"refused", c.refusals},
                                   {"keepalive_sent", c.keepalives_sent},
                                   {"keepalive_ack", c.keepalive_acks},
                                   {"bad_mac", c.bad_macs},
                                   {"unknown_session_hint", c.unknown_session_hints},
                                   {"reregistration", c.reregistrations},
                                   {"ignored", c.ignored}}) {
      add(events, {{"event", event}, {"protocol", proto}}, static_cast<double>(n));
    }
  }
  out.push_back(std::move(up));
  out.push_back(std::move(events));
}

}  // namespace

void add_agent_families(const AgentSample& s, const std::string& prefix,
                        std::vector<prometheus::MetricFamily>& out) {
  metrics::add_daemon_families(s.daemon, out);
  add_registrations(s, prefix, out);
  out.push_back(counter(prefix + "_tunnels_accepted_total",
                        "TUNNELs whose key, counter and tag verified (docs/protocol.md 5.3)",
                        s.receiver.accepted));
  out.push_back(counter(prefix + "_token_offers_total", "TOKEN_OFFERs sent to clients",
                        s.ingress.token_offers));
  auto refused =
      family(prefix + "_tunnel_dropped_total",
             "TUNNELs refused by the checks every agent shares, by reason", MetricType::Counter);
  for (std::size_t i = 0; i < agent::kTunnelDrops; ++i) {
    add(refused, {{"reason", std::string(agent::to_string(static_cast<agent::TunnelDrop>(i)))}},
        static_cast<double>(s.receiver.drops[i]));
  }
  for (std::size_t i = 0; i < agent::kIngressDrops; ++i) {
    add(refused, {{"reason", std::string(agent::to_string(static_cast<agent::IngressDrop>(i)))}},
        static_cast<double>(s.ingress.drops[i]));
  }
  out.push_back(std::move(refused));
}

}  // namespace dmux::agent
