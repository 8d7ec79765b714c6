#include "multicast/status_json.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "agent/registration_status.h"
#include "agent/status_json.h"
#include "common/metrics/counter_json.h"
#include "common/util/version.h"
#include "common/wire/protocols.h"

namespace dmux::multicast {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxListed = 256;  // groups and clients listed in full; counts are exact

std::string endpoint_text(std::uint64_t key) {
  return net::Endpoint{static_cast<std::uint32_t>(key >> 16),
                       static_cast<std::uint16_t>(key & 0xffff)}
      .to_string();
}

long long ms_since(MonoTime now, MonoTime then) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(now - then).count();
}

json membership_json(const Membership& m, MonoTime now) {
  const MembershipCounters& c = m.counters();
  json refusals = json::object();
  std::uint64_t refused = 0;
  metrics::add_by_name<Refusal>(refusals, refused, c.refusals);
  // Groups with their members, sorted by group, as "address:port".
  std::vector<std::pair<std::uint32_t, std::string>> rows;
  for (const auto& [key, client] : m.clients()) {
    for (const auto& g : client.groups) rows.emplace_back(g.group, endpoint_text(key));
  }
  std::sort(rows.begin(), rows.end());
  json groups = json::object();
  for (const auto& [group, member] : rows) {
    const std::string name = net::ipv4_to_string(group);
    if (!groups.contains(name) && groups.size() >= kMaxListed) continue;
    groups[name].push_back(member);
  }
  json clients = json::array();
  for (const auto& [key, client] : m.clients()) {
    if (clients.size() >= kMaxListed) break;
    clients.push_back(json{{"client", endpoint_text(key)},
                           {"groups", client.groups.size()},
                           {"last_report_ms_ago", ms_since(now, client.last_report)}});
  }
  return json{{"clients", m.clients().size()},
              {"addresses", m.address_count()},
              {"groups", m.group_count()},
              {"memberships", m.membership_count()},
              {"joins", c.joins},
              {"refreshes", c.refreshes},
              {"leaves", c.leaves},
              {"expired", c.expired},
              {"replaced_clients", c.replaced_clients},
              {"refused", refused},
              {"refusals", refusals},
              {"members", groups},
              {"client_list", clients}};
}

json peers_json(const PeerSet& peers, MonoTime now) {
  json out = json::array();
  for (const Peer& p : peers.peers()) {
    json groups = json::array();
    for (const std::uint32_t g : p.groups) groups.push_back(net::ipv4_to_string(g));
    out.push_back(json{{"peer", p.endpoint.to_string()},
                       {"alive", p.alive},
                       {"last_heard_ms_ago", p.alive ? ms_since(now, p.last_heard) : -1},
                       {"clients", p.clients.size()},
                       {"groups", groups}});
  }
  return out;
}

}  // namespace

std::string status_json(const StatusView& v) {
  const RouterCounters& c = v.router.counters();
  json drops = json::object();
  std::uint64_t dropped = 0;
  agent::add_drops<Drop>(drops, dropped, c.drops);
  json doc{
      {"agent", "dmux-mcast"},
      {"version", std::string(build::kVersion)},
      {"provider_id", v.provider_id.value()},
      {"uptime_seconds", v.uptime_seconds},
      {"gateway", v.config.gateway.to_string()},
      {"listen", v.config.listen.to_string()},
      {"registrations", json::array({agent::registration_json(v.registration)})},
      {"control_replies", v.control_replies},
      {"bad_control_replies", v.bad_control_replies},
      {"membership", membership_json(v.router.membership(), v.now)},
      {"peers", peers_json(v.router.peers(), v.now)},
  };
  metrics::add_counters(doc, kRouterCounters, c);
  agent::add_ingress_status(doc, drops, dropped, v.router.ingress(), v.now);
  doc["dropped_packets"] = dropped;
  doc["drops"] = drops;
  return doc.dump();
}

}  // namespace dmux::multicast
