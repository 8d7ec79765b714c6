#include "dmuxctl/render.h"

#include <cstdio>
#include <sstream>

namespace dmux::ctl {
namespace {

std::string fmt(const char* f, auto... args) {
  char buf[256];
  std::snprintf(buf, sizeof buf, f, args...);
  return buf;
}

std::string duration(double s) {
  const auto t = static_cast<long long>(s);
  return fmt("%lldd %02lldh %02lldm %02llds", t / 86400, t / 3600 % 24, t / 60 % 60, t % 60);
}

}  // namespace

std::string render_status(const nlohmann::json& s) {
  std::ostringstream o;
  o << "gateway " << s.value("gateway_id", "?") << "  (dmuxd " << s.value("version", "?") << ", up "
    << duration(s.value("uptime_seconds", 0.0)) << ")\n";
  o << "  listen:        ";
  for (const auto& l : s["listen"]) o << l.get<std::string>() << " ";
  o << "\n  tunnel source: " << s.value("tunnel_source", "?")
    << "\n  workers:       " << s.value("workers", 0)
    << "\n  metrics:       " << s.value("metrics", "?")
    << "\n  routers known: " << s.value("routers_known", 0) << "\n";
  if (s.contains("announce") && s["announce"].is_object()) {
    const auto& a = s["announce"];
    o << "  announce:      " << a.value("prefix", "?") << " " << a.value("state", "?")
      << (a.value("healthy", false) ? " (healthy" : " (unhealthy");
    if (a["route_metric"].is_number()) o << ", route metric " << a["route_metric"].get<unsigned>();
    if (a.value("state", "") == "draining") {
      o << fmt(", withdrawal in %.1f s", a.value("drain_remaining_seconds", 0.0));
    }
    o << ")\n";
  }
  o << "\n";
  o << fmt("  %-16s %14s %14s %14s %14s\n", "protocol", "rx packets", "rx bytes", "fwd packets",
           "fwd bytes");
  for (const auto& [name, p] : s["protocols"].items()) {
    o << fmt("  %-16s %14llu %14llu %14llu %14llu\n", name.c_str(),
             p.value("received_packets", 0ULL), p.value("received_bytes", 0ULL),
             p.value("forwarded_packets", 0ULL), p.value("forwarded_bytes", 0ULL));
  }
  o << "\n  drops:";
  bool any = false;
  for (const auto& [reason, n] : s["drops"].items()) {
    if (n.get<unsigned long long>() == 0) continue;
    o << " " << reason << "=" << n.get<unsigned long long>();
    any = true;
  }
  o << (any ? "\n" : " none\n");
  if (s.contains("registration") && s["registration"].is_object()) {
    const auto& r = s["registration"];
    o << "\n  registrations:";
    for (const auto& [result, n] : r["registers"].items()) {
      if (n.get<unsigned long long>() != 0)
        o << " " << result << "=" << n.get<unsigned long long>();
    }
    o << "\n  keepalives:   ";
    for (const auto& [result, n] : r["keepalives"].items()) {
      if (n.get<unsigned long long>() != 0)
        o << " " << result << "=" << n.get<unsigned long long>();
    }
    o << fmt("\n  cost at this gateway: %.1f us per REGISTER, %.1f us per KEEPALIVE (mean)\n",
             r.value("register_cost_us_mean", 0.0), r.value("keepalive_cost_us_mean", 0.0));
  }
  return o.str();
}

std::string render_routers(const nlohmann::json& r) {
  std::ostringstream o;
  const auto& list = r["routers"];
  if (list.empty()) return "no routers\n";
  o << fmt("%-16s %10s %-22s %-11s %-11s %9s %9s %8s %6s %9s\n", "PROTOCOL", "PROVIDER", "ADDRESS",
           "ORIGIN", "STATE", "AGE", "HEARD", "PENALTY", "FLAPS", "RTT");
  for (const auto& x : list) {
    const bool registered = x.contains("age_seconds");
    const std::string age = registered ? fmt("%.0fs", x.value("age_seconds", 0.0)) : "-";
    const std::string heard =
        registered ? fmt("%.1fs ago", x.value("last_heard_seconds", 0.0)) : "-";
    const std::string penalty = registered ? fmt("%.0f", x.value("dampening_penalty", 0.0)) : "-";
    const std::string flaps = registered ? fmt("%u", x.value("flaps", 0u)) : "-";
    // The router's own distance to this gateway, as its agent measured it (0 = not yet).
    const auto rtt_us = x.value("router_rtt_us", 0u);
    const std::string rtt = rtt_us != 0 ? fmt("%.1fms", static_cast<double>(rtt_us) / 1e3) : "-";
    o << fmt("%-16s %10u %-22s %-11s %-11s %9s %9s %8s %6s %9s\n", x.value("protocol", "?").c_str(),
             x.value("provider_id", 0u), x.value("address", "?").c_str(),
             x.value("origin", "?").c_str(), x.value("state", "?").c_str(), age.c_str(),
             heard.c_str(), penalty.c_str(), flaps.c_str(), rtt.c_str());
  }
  return o.str();
}

std::string render_peers(const nlohmann::json& m) {
  std::ostringstream o;
  o << "mesh on " << m.value("listen", "?") << ": " << m.value("local_routers", 0)
    << " routers registered here (version " << m.value("incarnation", 0ULL) << "."
    << m.value("seq", 0ULL) << "), " << m.value("remote_routers", 0) << " learned from peers\n\n";
  o << fmt("  %-16s %-22s %-11s %-9s %10s %7s %8s %10s\n", "gateway", "mesh endpoint", "state",
           "link", "rtt ms", "loss", "routers", "for s");
  for (const auto& p : m["peers"]) {
    const std::string id = p.value("gateway_id", "");
    std::string rtt = "-";
    if (p.contains("rtt_ms") && p["rtt_ms"].is_number())
      rtt = fmt("%.3f", p["rtt_ms"].get<double>());
    o << fmt("  %-16s %-22s %-11s %-9s %10s %6.1f%% %8zu %10.1f\n", id.empty() ? "?" : id.c_str(),
             p.value("mesh_endpoint", "?").c_str(), p.value("state", "?").c_str(),
             p.value("direction", "").c_str(), rtt.c_str(), 100.0 * p.value("loss", 0.0),
             p.value("routers", std::size_t{0}), p.value("state_seconds", 0.0));
  }
  const auto& c = m["counters"];
  o << "\n  refused:";
  bool any = false;
  for (const auto& [reason, n] : c["auth_refused"].items()) {
    if (n.get<unsigned long long>() == 0) continue;
    o << " " << reason << "=" << n.get<unsigned long long>();
    any = true;
  }
  for (const auto& [reason, n] : c["bad_frames"].items()) {
    if (n.get<unsigned long long>() == 0) continue;
    o << " " << reason << "=" << n.get<unsigned long long>();
    any = true;
  }
  for (const char* k : {"hello_mismatch", "protocol_violations", "links_failed", "dead_links"}) {
    if (c.value(k, 0ULL) == 0) continue;
    o << " " << k << "=" << c.value(k, 0ULL);
    any = true;
  }
  o << (any ? "\n" : " none\n");
  o << fmt("  traffic: %llu bytes in, %llu bytes out; %llu updates sent, %llu received\n",
           c.value("bytes_in", 0ULL), c.value("bytes_out", 0ULL), c.value("updates_sent", 0ULL),
           c.value("updates_received", 0ULL));
  return o.str();
}

}  // namespace dmux::ctl
