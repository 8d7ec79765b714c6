#include "dmuxctl/render_agents.h"

#include <cstdio>
#include <sstream>

#include "dmuxctl/render.h"

namespace dmux::ctl {
namespace {

using nlohmann::json;

unsigned long long count(const json& doc, const char* key) {
  const auto it = doc.find(key);
  return it != doc.end() && it->is_number_unsigned() ? it->get<unsigned long long>() : 0;
}

std::string text(const json& doc, const char* key) {
  const auto it = doc.find(key);
  if (it == doc.end()) return "?";
  return it->is_string() ? it->get<std::string>() : it->dump();
}

std::string uptime(const json& doc) {
  const auto t = static_cast<long long>(doc.value("uptime_seconds", 0.0));
  char buf[64];
  std::snprintf(buf, sizeof buf, "%lldd %02lldh %02lldm %02llds", t / 86400, t / 3600 % 24,
                t / 60 % 60, t % 60);
  return buf;
}

// "  label: a=1 b=2" for every non-zero counter of the object `doc[key]`, or "none".
void nonzero(std::ostringstream& o, const char* label, const json& doc, const char* key) {
  o << "  " << label << ":";
  bool any = false;
  if (const auto it = doc.find(key); it != doc.end() && it->is_object()) {
    for (const auto& [name, n] : it->items()) {
      if (!n.is_number_unsigned() || n.get<unsigned long long>() == 0) continue;
      o << " " << name << "=" << n.get<unsigned long long>();
      any = true;
    }
  }
  o << (any ? "\n" : " none\n");
}

void registrations(std::ostringstream& o, const json& doc) {
  const auto it = doc.find("registrations");
  if (it == doc.end() || !it->is_array()) return;
  for (const auto& r : *it) {
    o << "  registration " << text(r, "protocol") << ": " << text(r, "state");
    if (r.value("state", "") == "registered") {
      o << " at gateway " << text(r, "gateway_id") << ", keepalive every "
        << count(r, "keepalive_interval_ms") << " ms";
      if (count(r, "gateway_rtt_us")) o << ", rtt " << count(r, "gateway_rtt_us") << " us";
    } else {
      o << ", retry in " << count(r, "retry_delay_ms") << " ms";
    }
    o << "\n    sent " << count(r, "registers_sent") << " registers, accepted "
      << count(r, "registrations") << ", refused " << count(r, "refusals") << ", keepalives "
      << count(r, "keepalives_sent") << "/" << count(r, "keepalive_acks") << " acked\n";
  }
}

void packet_line(std::ostringstream& o, const char* label, unsigned long long packets,
                 unsigned long long bytes) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "  %-22s %14llu packets %16llu bytes\n", label, packets, bytes);
  o << buf;
}

}  // namespace

std::string render_provider_status(const json& s) {
  std::ostringstream o;
  o << "provider " << count(s, "provider_id") << "  (dmux-provider " << text(s, "version")
    << ", up " << uptime(s) << ")\n"
    << "  listen:        " << text(s, "listen") << "\n  gateway:       " << text(s, "gateway")
    << "\n  tun:           " << text(s, "tun") << " carrying " << text(s, "client_prefix") << "\n";
  registrations(o, s);
  o << "\n";
  packet_line(o, "tunnels received", count(s, "tunnels_received"),
              count(s, "tunnel_bytes_received"));
  packet_line(o, "delivered to tun", count(s, "delivered_to_tun"), count(s, "delivered_bytes"));
  packet_line(o, "returned to clients", count(s, "returned"), count(s, "returned_bytes"));
  o << "\n  dropped packets: " << count(s, "dropped_packets") << "\n";
  nonzero(o, "drops", s, "drops");
  return o.str();
}

std::string render_mcast_status(const json& s) {
  std::ostringstream o;
  o << "multicast router of provider " << count(s, "provider_id") << "  (dmux-mcast "
    << text(s, "version") << ", up " << uptime(s) << ")\n"
    << "  listen:        " << text(s, "listen") << "\n  gateway:       " << text(s, "gateway")
    << "\n";
  registrations(o, s);
  const json m = s.value("membership", json::object());
  o << "  membership:    " << count(m, "groups") << " groups, " << count(m, "clients")
    << " clients, " << count(m, "memberships") << " memberships (" << count(m, "refused")
    << " refused)\n";
  const json peers = s.value("peers", json::array());
  o << "  peers:        ";
  if (peers.empty()) o << " none";
  for (const auto& p : peers) {
    o << " " << text(p, "peer") << (p.value("alive", false) ? " (alive)" : " (dead)");
  }
  o << "\n\n";
  packet_line(o, "tunnels received", count(s, "tunnels_received"),
              count(s, "tunnel_bytes_received"));
  packet_line(o, "delivered to members", count(s, "delivered"), count(s, "delivered_bytes"));
  o << "  group packets " << count(s, "group_packets") << ", forwarded to peers "
    << count(s, "forwarded") << ", from peers " << count(s, "from_peers") << ", no receivers "
    << count(s, "no_receivers") << "\n";
  o << "\n  dropped packets: " << count(s, "dropped_packets") << "\n";
  nonzero(o, "drops", s, "drops");
  return o.str();
}

std::string render_client_status(const json& s) {
  std::ostringstream o;
  o << "client " << text(s, "local") << " -> gateway " << text(s, "gateway")
    << "  (dmux-client, up " << uptime(s) << ")\n"
    << "  tun:           " << text(s, "tun") << " (mtu " << count(s, "mtu") << "), chain "
    << text(s, "chain") << ", route table " << text(s, "route_table") << "\n";
  const std::string address = s.value("address", "");
  o << "  ipv6 address:  " << (address.empty() ? "none yet" : address);
  if (!address.empty()) o << " (valid " << s.value("address_valid_seconds", 0.0) << " s)";
  o << "\n  binding:       " << text(s, "binding") << "\n";
  if (const auto it = s.find("selectors"); it != s.end() && it->is_array()) {
    for (const auto& sel : *it) {
      const json token = sel.value("return_token", json::object());
      o << "  capture " << text(sel, "selector") << " (" << text(sel, "protocol") << ", provider "
        << count(sel, "provider_id") << ")" << (sel.value("active", false) ? "" : " inactive")
        << (token.value("have_token", false) ? ", return token held" : ", no return token") << "\n";
    }
  }
  o << "\n";
  packet_line(o, "captured", count(s, "captured"), count(s, "captured_bytes"));
  packet_line(o, "tunnelled", count(s, "tunnelled"), count(s, "tunnelled_bytes"));
  packet_line(o, "injected", count(s, "injected"), count(s, "injected_bytes"));
  o << "  returns received " << count(s, "returns_received") << ", address offers "
    << count(s, "address_offers") << ", token offers " << count(s, "token_offers") << "/"
    << count(s, "token_requests") << " requested\n";
  o << "\n  dropped packets: " << count(s, "dropped_packets") << "\n";
  nonzero(o, "drops", s, "drops");
  return o.str();
}

std::string render_any_status(const json& s) {
  const std::string agent = s.value("agent", "");
  if (agent == "dmux-provider") return render_provider_status(s);
  if (agent == "dmux-mcast") return render_mcast_status(s);
  if (s.value("daemon", "") == "dmux-client") return render_client_status(s);
  return render_status(s);
}

}  // namespace dmux::ctl
