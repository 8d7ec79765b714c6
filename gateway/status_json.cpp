#include "gateway/status_json.h"

#include <nlohmann/json.hpp>

#include "common/crypto/crypto.h"
#include "common/metrics/counter_json.h"
#include "common/util/version.h"
#include "common/wire/mesh.h"
#include "common/wire/protocols.h"

namespace dmux::gateway {

using nlohmann::json;

namespace {

double seconds(registry::Duration d) { return std::chrono::duration<double>(d).count(); }

json registration_json(const RegistrationSnapshot& r) {
  const json regs = metrics::by_name<registry::RegisterOutcome>(r.counters.registers);
  const json kas = metrics::by_name<registry::KeepaliveOutcome>(r.counters.keepalives);
  const json cookies = metrics::by_name<registry::CookieOutcome>(r.counters.cookies);
  json feedback = metrics::by_name<registry::FeedbackResult>(r.feedback.by_result);
  feedback["active"] = r.router_feedback;
  feedback["tag_verified"] = r.feedback.tag_verified;
  feedback["tag_unchecked"] = r.feedback.tag_unchecked;
  feedback["probes_expired"] = r.feedback.probes_expired;
  const auto& l = r.liveness;
  const json liveness{{"suspected", l.suspected},
                      {"recovered", l.recovered},
                      {"confirmed_dead", l.confirmed_dead},
                      {"own_stalls", l.own_stalls},
                      {"stalled_ms", l.stalled_ms}};
  const auto& certs = r.counters.certificates;
  const auto mean_us = [](std::uint64_t ns, std::uint64_t n) { return n ? ns / 1e3 / n : 0.0; };
  return json{{"registers", regs},
              {"keepalives", kas},
              {"cookie_requests", cookies},
              {"unsupported_version", r.counters.unsupported_version},
              {"other", r.counters.other},
              {"tracked_sources", r.counters.tracked_sources},
              {"certificate_checks",
               {{"hit", certs.hits}, {"refused_hit", certs.refused_hits}, {"miss", certs.misses}}},
              {"register_cost_us_mean", mean_us(r.register_ns, r.register_count)},
              {"verified_register_cost_us_mean", mean_us(r.verified_ns, r.verified_count)},
              {"keepalive_cost_us_mean", mean_us(r.keepalive_ns, r.keepalive_count)},
              {"liveness", liveness},
              {"router_feedback", feedback}};
}

json announce_json(const GatewayConfig& config, const GatewayStats& stats) {
  const auto& a = *stats.announce;
  return json{{"prefix", config.announce->prefix.to_string()},
              {"device", config.announce->device},
              {"state", std::string(bgp_glue::to_string(a.state))},
              {"healthy", a.healthy},
              {"drain_requested", a.drain_requested},
              {"route_metric", a.installed_metric ? json(*a.installed_metric) : json(nullptr)},
              {"drain_remaining_seconds", a.drain_remaining_seconds},
              {"route_changes", a.transitions},
              {"route_failures", a.route_failures},
              {"bad_health_samples", a.bad_samples},
              {"stray_packets", stats.announce_stray_packets}};
}

json records_refused_json(const mesh::IntakeCounters& c) {
  json out = json::object();
  for (std::size_t i = 1; i < mesh::kRecordVerdicts; ++i) {
    out[std::string(mesh::to_string(static_cast<mesh::RecordVerdict>(i)))] = c.records_refused[i];
  }
  return out;
}

json closes_json(const mesh::MeshCounters& c) {
  json out = json::object();
  for (std::size_t i = 0; i < mesh::kCloseReasons; ++i) {
    if (c.closes[i] != 0)
      out[std::string(mesh::to_string(static_cast<mesh::CloseReason>(i)))] = c.closes[i];
  }
  return out;
}

json mesh_counters_json(const mesh::MeshCounters& c) {
  json refused = json::object();
  for (std::size_t i = 1; i < c.auth_refused.size(); ++i) {
    refused[crypto::to_string(static_cast<crypto::VerifyResult>(i))] = c.auth_refused[i];
  }
  json bad = json::object();
  for (std::size_t i = 1; i < c.bad_frames.size(); ++i) {
    bad[std::string(wire::mesh::to_string(static_cast<wire::mesh::Status>(i)))] = c.bad_frames[i];
  }
  return json{{"links_accepted", c.links_accepted},
              {"links_dialed", c.links_dialed},
              {"links_failed", c.links_failed},
              {"auth_refused", refused},
              {"hello_mismatch", c.hello_mismatch},
              {"protocol_violations", c.protocol_violations},
              {"bad_frames", bad},
              {"self_links", c.self_links},
              {"duplicate_links", c.duplicate_links},
              {"dead_links", c.dead_links},
              {"updates_sent", c.updates_sent},
              {"updates_received", c.updates_received},
              {"updates_not_applied", c.updates_not_applied},
              {"full_states_sent", c.full_states_sent},
              {"full_states_received", c.full_states_received},
              {"probes_sent", c.probes_sent},
              {"probe_replies", c.probe_replies},
              {"bytes_in", c.bytes_in},
              {"bytes_out", c.bytes_out},
              {"handshakes_refused", c.handshakes_refused},
              {"certificates_received", c.certificates_received},
              {"certificates_refused", c.certificates_refused},
              {"records_refused", records_refused_json(c.intake)},
              {"intake",
               {{"records_verified", c.intake.records_verified},
                {"full_states_applied", c.intake.full_states_applied},
                {"updates_applied", c.intake.updates_applied},
                {"stale", c.intake.stale},
                {"parts_discarded", c.intake.parts_discarded}}},
              {"directory",
               {{"vouched", c.directory.vouched},
                {"ignored", c.directory.ignored},
                {"mismatch", c.directory.mismatch}}},
              {"slices", c.slices},
              {"longest_slice_us", c.longest_slice_us},
              {"own_stalls", c.own_stalls},
              {"crls_adopted", c.crls_adopted},
              {"crls_ignored", c.crls_ignored},
              {"crl_number", c.crl_number},
              {"closes", closes_json(c)}};
}

json mesh_json(const mesh::MeshSnapshot& m) {
  return json{{"local_routers", m.local_routers},
              {"remote_routers", m.remote_routers},
              {"records_queued", m.records_queued},
              {"counters", mesh_counters_json(m.counters)}};
}

}  // namespace

std::string status_json(const GatewayConfig& config, const GatewayStats& stats,
                        double now_seconds) {
  const CounterTotals& t = stats.totals;
  json per_proto = json::object();
  std::uint64_t rx = 0, tx = 0, dropped = 0;
  for (std::size_t slot = 0; slot < wire::kProtocolSlots; ++slot) {
    json& entry = per_proto[std::string(wire::protocol_slot_name(slot))];
    for (const auto& f : kPerProtocolCounters) entry[f.json] = (t.*f.value)[slot];
    rx += t.rx_packets[slot];
    tx += t.tx_packets[slot];
  }
  json drops = json::object();
  metrics::add_by_name<DropReason>(drops, dropped, t.drops);
  json listen = json::array();
  for (const auto& ep : config.listen) listen.push_back(ep.to_string());
  json doc{
      {"gateway_id", net::ipv4_to_string(config.gateway_id.value())},
      {"gateway_id_number", config.gateway_id.value()},
      {"version", std::string(build::kVersion)},
      {"uptime_seconds", now_seconds - stats.start_time_seconds},
      {"workers", stats.workers},
      {"worker_received_packets", stats.worker_received_packets},
      {"listen", listen},
      {"tunnel_source", net::ipv4_to_string(config.tunnel_source.addr)},
      {"metrics", config.metrics_listen ? config.metrics_listen->to_string() : "off"},
      {"config_file", config.config_file},
      {"routers_known", stats.table ? stats.table->size() : 0},
      {"routers_without_key", stats.table ? stats.table->unkeyed() : 0},
      {"table_generation", stats.table_generation},
      {"received_packets", rx},
      {"forwarded_packets", tx},
      {"dropped_packets", dropped},
      {"protocols", per_proto},
      {"drops", drops},
      {"registration", stats.registration ? registration_json(*stats.registration) : json(nullptr)},
      {"mesh", stats.mesh ? mesh_json(*stats.mesh) : json(nullptr)},
      {"announce",
       stats.announce && config.announce ? announce_json(config, stats) : json(nullptr)},
  };
  metrics::add_counters(doc, kCounters, t);
  return doc.dump();
}

std::string routers_json(const GatewayStats& stats) {
  json list = json::array();
  if (stats.table) {
    for (const auto& r : stats.table->routers()) {
      if (r.origin == RouterOrigin::kRegistered) continue;  // listed with their soft state below
      json entry = {{"protocol", wire::protocol_name(r.id.proto.value())},
                    {"proto_id", r.id.proto.value()},
                    {"provider_id", r.id.provider.value()},
                    {"address", r.id.address.to_string()},
                    {"origin", to_string(r.origin)},
                    {"state", r.key ? "up" : "no_key"},
                    {"key_id", r.key_id}};
      if (r.origin == RouterOrigin::kMesh) {
        entry["origin_gateway"] = net::ipv4_to_string(r.origin_gateway.value());
      }
      list.push_back(std::move(entry));
    }
  }
  if (stats.registration) {
    for (const auto& r : stats.registration->routers) {
      const bool up = r.state == registry::RouterState::kUp;
      const bool suspect = r.state == registry::RouterState::kSuspect;
      list.push_back({{"protocol", wire::protocol_name(r.id.proto.value())},
                      {"proto_id", r.id.proto.value()},
                      {"provider_id", r.id.provider.value()},
                      {"address", r.id.address.to_string()},
                      {"origin", to_string(RouterOrigin::kRegistered)},
                      {"state", up        ? "up"
                                : suspect ? "suspect"
                                          : (r.suppressed ? "suppressed" : "withdrawn")},
                      {"age_seconds", seconds(r.age)},
                      {"last_heard_seconds", seconds(r.since_heard)},
                      {"dampening_penalty", r.penalty},
                      {"suppressed", r.suppressed},
                      {"flaps", r.flaps},
                      {"router_rtt_us", r.rtt_us}});  // from its keepalives; 0 = unknown
    }
  }
  return json{{"routers", list}}.dump();
}

std::string peers_json(const GatewayStats& stats) {
  if (!stats.mesh) return json{{"error", "the mesh is not enabled (--mesh-listen)"}}.dump();
  const auto& m = *stats.mesh;
  json peers = json::array();
  for (const auto& p : m.peers) {
    peers.push_back(
        {{"gateway_id",
          p.gateway_id != wire::GatewayId{0} ? net::ipv4_to_string(p.gateway_id.value()) : ""},
         {"mesh_endpoint", p.mesh_endpoint.to_string()},
         {"state", p.state},
         {"direction",
          p.state == std::string_view("up") ? (p.outbound ? "outbound" : "inbound") : ""},
         {"rtt_ms", p.rtt ? json(static_cast<double>(p.rtt->count()) / 1e3) : json(nullptr)},
         {"loss", p.loss},
         {"routers", p.routers},
         {"incarnation", p.version.incarnation},
         {"seq", p.version.seq},
         {"state_seconds", p.state_seconds}});
  }
  return json{{"listen", m.listen.to_string()},
              {"local_routers", m.local_routers},
              {"remote_routers", m.remote_routers},
              {"records_queued", m.records_queued},
              {"incarnation", m.local_version.incarnation},
              {"seq", m.local_version.seq},
              {"peers", peers},
              {"counters", mesh_counters_json(m.counters)}}
      .dump();
}

}  // namespace dmux::gateway
