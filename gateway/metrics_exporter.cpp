#include "gateway/metrics_exporter.h"

#include <prometheus/metric_family.h>

#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "common/crypto/crypto.h"
#include "common/metrics/daemon_families.h"
#include "common/metrics/family_server.h"
#include "common/net/endpoint.h"
#include "common/wire/mesh.h"
#include "common/wire/protocols.h"

namespace dmux::gateway {
namespace {

using metrics::add;
using metrics::family;
using prometheus::MetricFamily;
using prometheus::MetricType;

template <typename Array>
MetricFamily per_protocol(const char* name, const char* help, const Array& values) {
  auto f = family(name, help, MetricType::Counter);
  for (std::size_t slot = 0; slot < values.size(); ++slot) {
    add(f, {{"protocol", std::string(wire::protocol_slot_name(slot))}},
        static_cast<double>(values[slot]));
  }
  return f;
}

// One counter per outcome of a registration message, labelled result="<outcome name>".
template <typename Outcome, std::size_t N>
MetricFamily by_result(const char* name, const char* help,
                       const std::array<std::uint64_t, N>& counts) {
  return metrics::by_label<Outcome>(name, help, "result", counts);
}

// Fast router liveness (protocol.md 9.9): keepalive suspicion, ICMP feedback, our own stalls.
void add_liveness(const RegistrationSnapshot& r, std::vector<MetricFamily>& out) {
  const auto& l = r.liveness;
  auto events = family("dmux_gateway_router_liveness_total",
                       "Router liveness transitions: suspected (keepalives missed), recovered "
                       "(keepalives again), confirmed_dead (a probe refused after ICMP evidence)",
                       MetricType::Counter);
  add(events, {{"event", "suspected"}}, static_cast<double>(l.suspected));
  add(events, {{"event", "recovered"}}, static_cast<double>(l.recovered));
  add(events, {{"event", "confirmed_dead"}}, static_cast<double>(l.confirmed_dead));
  out.push_back(std::move(events));
  auto stalls = family("dmux_gateway_own_stalls_total",
                       "Expiry runs after a stall of this gateway's own (silence forgiven, not "
                       "blamed on routers)",
                       MetricType::Counter);
  add(stalls, {}, static_cast<double>(l.own_stalls));
  out.push_back(std::move(stalls));
  out.push_back(by_result<registry::FeedbackResult>(
      "dmux_gateway_icmp_feedback_total",
      "ICMP destination-unreachable messages about TUNNELs by what they proved (protocol.md 9.9)",
      r.feedback.by_result));
}

// Registration outcomes, and what keeps floods away from its public-key work (protocol.md 9.6).
void add_registration(const RegistrationSnapshot& r, std::vector<MetricFamily>& out) {
  const registry::RegistrationCounters& rc = r.counters;
  out.push_back(by_result<registry::RegisterOutcome>(
      "dmux_gateway_registrations_total",
      "REGISTER messages by result (accepted or the reason for refusal)", rc.registers));
  out.push_back(by_result<registry::KeepaliveOutcome>("dmux_gateway_keepalives_total",
                                                      "KEEPALIVE and DEREGISTER messages by result",
                                                      rc.keepalives));
  out.push_back(by_result<registry::CookieOutcome>(
      "dmux_gateway_cookie_requests_total", "COOKIE_REQUEST messages by result", rc.cookies));
  auto dropped = family("dmux_gateway_registration_dropped_total",
                        "Datagrams at the registration endpoints that are not version-2 "
                        "registration messages (unsupported_version, other)",
                        MetricType::Counter);
  add(dropped, {{"reason", "unsupported_version"}}, static_cast<double>(rc.unsupported_version));
  add(dropped, {{"reason", "other"}}, static_cast<double>(rc.other));
  out.push_back(std::move(dropped));
  auto sources = family("dmux_gateway_registration_sources",
                        "Source addresses in the per-source REGISTER rate limiter (only sources "
                        "that showed a valid cookie)",
                        MetricType::Gauge);
  add(sources, {}, static_cast<double>(rc.tracked_sources));
  out.push_back(std::move(sources));
  auto certs = family("dmux_gateway_certificate_checks_total",
                      "Provider certificate checks at registration: hit (known genuine), "
                      "refused_hit (known refused), miss (verified against the CA)",
                      MetricType::Counter);
  add(certs, {{"result", "hit"}}, static_cast<double>(rc.certificates.hits));
  add(certs, {{"result", "refused_hit"}}, static_cast<double>(rc.certificates.refused_hits));
  add(certs, {{"result", "miss"}}, static_cast<double>(rc.certificates.misses));
  out.push_back(std::move(certs));
  std::size_t suppressed = 0;
  for (const auto& router : r.routers) suppressed += router.suppressed ? 1 : 0;
  auto damped =
      family("dmux_gateway_suppressed_routers",
             "Registered routers currently suppressed by flap dampening", MetricType::Gauge);
  add(damped, {}, static_cast<double>(suppressed));
  out.push_back(std::move(damped));
  add_liveness(r, out);
}

// The dmux-prefix announcement (bgp-glue).
void add_announce(const bgp_glue::AnnounceSnapshot& a, std::uint64_t stray,
                  std::vector<MetricFamily>& out) {
  auto state = family("dmux_gateway_announce_state",
                      "1 for the announcement's current state (withdrawn, announced, draining, "
                      "drained), 0 for the others",
                      MetricType::Gauge);
  for (auto st : {bgp_glue::AnnounceState::kWithdrawn, bgp_glue::AnnounceState::kAnnounced,
                  bgp_glue::AnnounceState::kDraining, bgp_glue::AnnounceState::kDrained}) {
    add(state, {{"state", std::string(bgp_glue::to_string(st))}}, a.state == st ? 1 : 0);
  }
  out.push_back(std::move(state));
  auto healthy =
      family("dmux_gateway_healthy", "1 if the health check passes (rise/fall applied), else 0",
             MetricType::Gauge);
  add(healthy, {}, a.healthy ? 1 : 0);
  out.push_back(std::move(healthy));
  auto changes = family("dmux_gateway_announce_route_changes_total",
                        "Changes of the announced kernel route (add, metric change, removal)",
                        MetricType::Counter);
  add(changes, {}, static_cast<double>(a.transitions));
  out.push_back(std::move(changes));
  auto failures = family("dmux_gateway_announce_route_failures_total",
                         "Kernel route operations that failed (retried)", MetricType::Counter);
  add(failures, {}, static_cast<double>(a.route_failures));
  out.push_back(std::move(failures));
  auto bad = family("dmux_gateway_health_bad_samples_total", "Health samples that failed",
                    MetricType::Counter);
  add(bad, {}, static_cast<double>(a.bad_samples));
  out.push_back(std::move(bad));
  auto strays =
      family("dmux_gateway_announce_stray_packets_total",
             "Packets to non-local addresses of the dmux-prefix (discarded)", MetricType::Counter);
  add(strays, {}, static_cast<double>(stray));
  out.push_back(std::move(strays));
}

// A peer by its gateway id; a seed not reached yet has none: by its mesh endpoint.
std::string peer_name(const mesh::PeerStatus& p) {
  return p.gateway_id != wire::GatewayId{0} ? net::ipv4_to_string(p.gateway_id.value())
                                            : p.mesh_endpoint.to_string();
}

// The mesh, from the snapshot MeshServer refreshes on the control thread.
void add_mesh(const mesh::MeshSnapshot& m, std::vector<MetricFamily>& out) {
  auto up =
      family("dmux_gateway_mesh_peer_up",
             "1 if the mesh link to the peer gateway is established, else 0", MetricType::Gauge);
  auto rtt = family("dmux_gateway_mesh_peer_rtt_seconds",
                    "Round-trip time to the peer gateway (median of recent probes); absent "
                    "until measured",
                    MetricType::Gauge);
  auto loss = family("dmux_gateway_mesh_peer_loss_ratio",
                     "Fraction of the last 64 probes to the peer gateway left unanswered",
                     MetricType::Gauge);
  auto learned = family("dmux_gateway_mesh_peer_routers", "Routers learned from the peer gateway",
                        MetricType::Gauge);
  for (const auto& p : m.peers) {
    const std::string peer = peer_name(p);
    add(up, {{"peer", peer}}, std::string_view(p.state) == "up" ? 1 : 0);
    if (p.rtt) add(rtt, {{"peer", peer}}, static_cast<double>(p.rtt->count()) / 1e6);
    add(loss, {{"peer", peer}}, p.loss);
    add(learned, {{"peer", peer}}, static_cast<double>(p.routers));
  }
  out.push_back(std::move(up));
  out.push_back(std::move(rtt));
  out.push_back(std::move(loss));
  out.push_back(std::move(learned));

  auto routers = family("dmux_gateway_mesh_routers",
                        "Routers announced to the mesh (local) and learned from it (remote)",
                        MetricType::Gauge);
  add(routers, {{"origin", "local"}}, static_cast<double>(m.local_routers));
  add(routers, {{"origin", "remote"}}, static_cast<double>(m.remote_routers));
  out.push_back(std::move(routers));

  const mesh::MeshCounters& c = m.counters;
  auto bytes = family("dmux_gateway_mesh_bytes_total", "TLS payload bytes on mesh links, all links",
                      MetricType::Counter);
  add(bytes, {{"direction", "received"}}, static_cast<double>(c.bytes_in));
  add(bytes, {{"direction", "sent"}}, static_cast<double>(c.bytes_out));
  out.push_back(std::move(bytes));

  auto links = family("dmux_gateway_mesh_links_total",
                      "Mesh links by event: accepted, dialed, failed before HELLO, closed as "
                      "self, duplicate or dead",
                      MetricType::Counter);
  add(links, {{"event", "accepted"}}, static_cast<double>(c.links_accepted));
  add(links, {{"event", "dialed"}}, static_cast<double>(c.links_dialed));
  add(links, {{"event", "failed"}}, static_cast<double>(c.links_failed));
  add(links, {{"event", "self"}}, static_cast<double>(c.self_links));
  add(links, {{"event", "duplicate"}}, static_cast<double>(c.duplicate_links));
  add(links, {{"event", "dead"}}, static_cast<double>(c.dead_links));
  out.push_back(std::move(links));

  auto rejected = family("dmux_gateway_mesh_rejected_total",
                         "Mesh peers or frames refused, by reason (certificate check, HELLO "
                         "mismatch, protocol violation, bad frame status)",
                         MetricType::Counter);
  for (std::size_t i = 1; i < c.auth_refused.size(); ++i) {
    add(rejected,
        {{"reason",
          std::string("auth_") + crypto::to_string(static_cast<crypto::VerifyResult>(i))}},
        static_cast<double>(c.auth_refused[i]));
  }
  add(rejected, {{"reason", "hello_mismatch"}}, static_cast<double>(c.hello_mismatch));
  add(rejected, {{"reason", "protocol_violation"}}, static_cast<double>(c.protocol_violations));
  for (std::size_t i = 1; i < c.bad_frames.size(); ++i) {
    add(rejected,
        {{"reason",
          "frame_" + std::string(wire::mesh::to_string(static_cast<wire::mesh::Status>(i)))}},
        static_cast<double>(c.bad_frames[i]));
  }
  out.push_back(std::move(rejected));

  auto messages = family("dmux_gateway_mesh_messages_total", "Mesh messages by type and direction",
                         MetricType::Counter);
  add(messages, {{"direction", "sent"}, {"type", "update"}}, static_cast<double>(c.updates_sent));
  add(messages, {{"direction", "received"}, {"type", "update"}},
      static_cast<double>(c.updates_received));
  add(messages, {{"direction", "sent"}, {"type", "full_state"}},
      static_cast<double>(c.full_states_sent));
  add(messages, {{"direction", "received"}, {"type", "full_state"}},
      static_cast<double>(c.full_states_received));
  add(messages, {{"direction", "sent"}, {"type", "probe"}}, static_cast<double>(c.probes_sent));
  add(messages, {{"direction", "received"}, {"type", "probe_reply"}},
      static_cast<double>(c.probe_replies));
  out.push_back(std::move(messages));

  auto stale =
      family("dmux_gateway_mesh_updates_not_applied_total",
             "UPDATEs received but not applied (stale or duplicate version)", MetricType::Counter);
  add(stale, {}, static_cast<double>(c.updates_not_applied));
  out.push_back(std::move(stale));
}

// The forwarding table's routers by protocol and origin, and those without a key.
void add_routers(const GatewayStats& s, std::vector<MetricFamily>& out) {
  auto routers =
      family("dmux_gateway_routers", "Routers in the forwarding table", MetricType::Gauge);
  // Every assigned protocol and origin is present, at 0 when it has no router, so "a protocol
  // without routers" is a series at 0 rather than a missing one (alert
  // DmuxProtocolWithoutRouters).
  std::map<std::pair<std::string, std::string>, double> counts;
  for (const auto& p : wire::kProtocols) {
    for (auto origin : {RouterOrigin::kStatic, RouterOrigin::kRegistered, RouterOrigin::kMesh}) {
      counts[{std::string(p.name), std::string(to_string(origin))}] = 0;
    }
  }
  if (s.table) {
    for (const auto& r : s.table->routers()) {
      counts[{wire::protocol_name(r.id.proto.value()), std::string(to_string(r.origin))}] += 1;
    }
  }
  for (const auto& [key, n] : counts) {
    add(routers, {{"origin", key.second}, {"protocol", key.first}}, n);
  }
  out.push_back(std::move(routers));
  out.push_back(metrics::gauge("dmux_gateway_routers_without_key",
                               "Routers in the table without a tunnel key (never forwarded to)",
                               static_cast<double>(s.table ? s.table->unkeyed() : 0)));
}

std::vector<MetricFamily> families(const GatewayStats& s) {
  const CounterTotals& t = s.totals;
  std::vector<MetricFamily> out;
  for (const auto& f : kPerProtocolCounters)
    out.push_back(per_protocol(f.metric, f.help, t.*f.value));

  out.push_back(metrics::by_label<DropReason>("dmux_gateway_dropped_packets_total",
                                              "Datagrams dropped by the data plane, by reason",
                                              "reason", t.drops));
  metrics::add_counter_families(out, kCounters, t);

  add_routers(s, out);
  if (s.registration) add_registration(*s.registration, out);

  if (s.mesh) add_mesh(*s.mesh, out);
  if (s.announce) add_announce(*s.announce, s.announce_stray_packets, out);

  out.push_back(metrics::gauge("dmux_gateway_workers", "Data-plane worker threads",
                               static_cast<double>(s.workers)));
  out.push_back(metrics::gauge("dmux_gateway_start_time_seconds", "Unix time the gateway started",
                               s.start_time_seconds));
  metrics::add_daemon_families(s.daemon, out);
  return out;
}

}  // namespace

MetricsExporter::MetricsExporter(const net::Endpoint& listen, StatsSource source)
    : server_(std::make_unique<metrics::FamilyServer>(
          listen, [source = std::move(source)] { return families(source()); })) {}

MetricsExporter::~MetricsExporter() = default;

std::vector<int> MetricsExporter::listening_ports() const { return {server_->endpoint().port}; }

}  // namespace dmux::gateway
