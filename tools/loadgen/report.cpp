#include "tools/loadgen/report.h"

#include <nlohmann/json.hpp>

namespace dmux::loadgen {
namespace {

using nlohmann::json;

double seconds(std::chrono::nanoseconds d) { return std::chrono::duration<double>(d).count(); }

json shim_json(const ShimSpec& s) {
  if (!s.enabled) return nullptr;
  return json{{"proto_id", s.proto_id}, {"provider_id", s.provider_id}, {"token", s.token}};
}

json latency_json(const LatencySummary& l) {
  return json{{"samples", l.samples}, {"min", l.min_us}, {"mean", l.mean_us}, {"p50", l.p50_us},
              {"p90", l.p90_us},      {"p99", l.p99_us}, {"max", l.max_us}};
}

}  // namespace

std::string to_json_line(const SendConfig& c, const SendReport& r) {
  return json{{"mode", "send"},
              {"target", c.target.to_string()},
              {"shim", shim_json(c.shim)},
              {"flows", c.flows},
              {"datagram_bytes", c.datagram_bytes},
              {"batch", c.batch},
              {"target_pps", c.rate_pps},
              {"duration_s", seconds(c.duration)},
              {"packets", r.packets},
              {"bytes", r.bytes},
              {"send_errors", r.send_errors},
              {"elapsed_s", r.elapsed_s},
              {"achieved_pps", r.achieved_pps}}
      .dump();
}

std::string to_json_line(const SinkConfig& c, const SinkReport& r) {
  const double pps = r.active_s > 0 ? static_cast<double>(r.packets) / r.active_s : 0;
  return json{{"mode", "sink"},
              {"listen", c.listen.to_string()},
              {"expect", c.expect == Expect::kTunnel ? "tunnel" : "any"},
              {"drain_interval_us", c.drain_interval.count()},
              {"packets", r.packets},
              {"bytes", r.bytes},
              {"invalid", r.invalid},
              {"tags_checked", c.tunnel_key.has_value()},
              {"bad_tag", r.bad_tag},
              {"tags_checked_later", r.tags_checked_later},
              {"truncated", r.truncated},
              {"active_s", r.active_s},
              {"active_pps", pps},
              {"elapsed_s", r.elapsed_s},
              {"rcvbuf_bytes", r.rcvbuf_bytes}}
      .dump();
}

std::string to_json_line(const PingConfig& c, const PingReport& r) {
  return json{{"mode", "ping"},
              {"target", c.target.to_string()},
              {"shim", shim_json(c.shim)},
              {"datagram_bytes", c.datagram_bytes},
              {"interval_us", c.interval.count()},
              {"sent", r.sent},
              {"received", r.received},
              {"lost", r.lost},
              {"stale", r.stale},
              {"invalid", r.invalid},
              {"gave_up", r.gave_up},
              {"rtt_us", latency_json(r.rtt)}}
      .dump();
}

std::string to_json_line(const EchoConfig& c, const EchoReport& r) {
  return json{{"mode", "echo"},
              {"listen", c.listen.to_string()},
              {"echo_mode", c.mode == EchoMode::kTunnel ? "tunnel" : "raw"},
              {"received", r.received},
              {"echoed", r.echoed},
              {"invalid", r.invalid},
              {"send_errors", r.send_errors}}
      .dump();
}

}  // namespace dmux::loadgen
