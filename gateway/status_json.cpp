#include "gateway/status_json.h"

#include <nlohmann/json.hpp>

#include "common/wire/protocols.h"

namespace dmux::gateway {

using nlohmann::json;

namespace {

double seconds(registry::Duration d) { return std::chrono::duration<double>(d).count(); }

json registration_json(const RegistrationSnapshot& r) {
  json regs = json::object(), kas = json::object();
  for (std::size_t i = 0; i < registry::kRegisterOutcomes; ++i) {
    regs[std::string(registry::to_string(static_cast<registry::RegisterOutcome>(i)))] =
        r.counters.registers[i];
  }
  for (std::size_t i = 0; i < registry::kKeepaliveOutcomes; ++i) {
    kas[std::string(registry::to_string(static_cast<registry::KeepaliveOutcome>(i)))] =
        r.counters.keepalives[i];
  }
  const auto mean_us = [](std::uint64_t ns, std::uint64_t n) { return n ? ns / 1e3 / n : 0.0; };
  return json{{"registers", regs},
              {"keepalives", kas},
              {"register_cost_us_mean", mean_us(r.register_ns, r.register_count)},
              {"keepalive_cost_us_mean", mean_us(r.keepalive_ns, r.keepalive_count)}};
}

}  // namespace

std::string status_json(const GatewayConfig& config, const GatewayStats& stats,
                        double now_seconds) {
  const CounterTotals& t = stats.totals;
  json per_proto = json::object();
  std::uint64_t rx = 0, tx = 0, dropped = 0;
  for (std::size_t slot = 0; slot < wire::kProtocolSlots; ++slot) {
    per_proto[std::string(wire::protocol_slot_name(slot))] = {
        {"received_packets", t.rx_packets[slot]},
        {"received_bytes", t.rx_bytes[slot]},
        {"forwarded_packets", t.tx_packets[slot]},
        {"forwarded_bytes", t.tx_bytes[slot]}};
    rx += t.rx_packets[slot];
    tx += t.tx_packets[slot];
  }
  json drops = json::object();
  for (std::size_t r = 0; r < kDropReasons; ++r) {
    drops[std::string(to_string(static_cast<DropReason>(r)))] = t.drops[r];
    dropped += t.drops[r];
  }
  json listen = json::array();
  for (const auto& ep : config.listen) listen.push_back(ep.to_string());
  return json{
      {"gateway_id", net::ipv4_to_string(config.gateway_id)},
      {"gateway_id_number", config.gateway_id},
      {"version", "0.1.0"},
      {"uptime_seconds", now_seconds - stats.start_time_seconds},
      {"workers", stats.workers},
      {"listen", listen},
      {"tunnel_source", net::ipv4_to_string(config.tunnel_source.addr)},
      {"metrics", config.metrics_listen ? config.metrics_listen->to_string() : "off"},
      {"config_file", config.config_file},
      {"routers_known", stats.table ? stats.table->size() : 0},
      {"table_generation", stats.table_generation},
      {"received_packets", rx},
      {"forwarded_packets", tx},
      {"dropped_packets", dropped},
      {"receive_buffer_dropped_packets", t.socket_overflows},
      {"protocols", per_proto},
      {"drops", drops},
      {"registration", stats.registration ? registration_json(*stats.registration) : json(nullptr)},
  }
      .dump();
}

std::string routers_json(const GatewayStats& stats) {
  json list = json::array();
  if (stats.table) {
    for (const auto& r : stats.table->routers()) {
      if (r.origin == RouterOrigin::kRegistered) continue;  // listed with their soft state below
      list.push_back({{"protocol", wire::protocol_name(r.proto_id)},
                      {"proto_id", r.proto_id},
                      {"provider_id", r.provider_id},
                      {"address", r.address.to_string()},
                      {"origin", to_string(r.origin)},
                      {"state", "up"}});
    }
  }
  if (stats.registration) {
    for (const auto& r : stats.registration->routers) {
      const bool up = r.state == registry::RouterState::kUp;
      list.push_back({{"protocol", wire::protocol_name(r.key.proto_id)},
                      {"proto_id", r.key.proto_id},
                      {"provider_id", r.key.provider_id},
                      {"address", r.key.address.to_string()},
                      {"origin", to_string(RouterOrigin::kRegistered)},
                      {"state", up ? "up" : (r.suppressed ? "suppressed" : "withdrawn")},
                      {"age_seconds", seconds(r.age)},
                      {"last_heard_seconds", seconds(r.since_heard)},
                      {"dampening_penalty", r.penalty},
                      {"suppressed", r.suppressed},
                      {"flaps", r.flaps}});
    }
  }
  return json{{"routers", list}}.dump();
}

}  // namespace dmux::gateway
