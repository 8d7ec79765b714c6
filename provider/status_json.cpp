#include "provider/status_json.h"

#include <nlohmann/json.hpp>

#include "agent/registration_status.h"
#include "agent/status_json.h"
#include "common/metrics/counter_json.h"
#include "common/util/version.h"
#include "common/wire/protocols.h"

namespace dmux::provider {

using nlohmann::json;

namespace {

json offload_json(const OffloadView& o) {
  json tun = json::array();
  const std::pair<unsigned, const char*> names[] = {
      {0x01, "csum"}, {0x02, "tso4"}, {0x04, "tso6"}, {0x20, "uso4"}, {0x40, "uso6"}};
  for (const auto& [bit, name] : names) {
    if ((o.tun_offloads & bit) != 0) tun.push_back(name);
  }
  json doc{{"tun", tun}, {"udp_gro", o.udp_gro}, {"udp_gso", o.gso}};
  if (o.receive != nullptr) {
    doc["receive_syscalls"] = o.receive->syscalls;
    doc["gro_trains"] = o.receive->gro_buffers;
    doc["receive_truncated"] = o.receive->truncated;
  }
  if (o.coalesce != nullptr) {
    doc["tun_writes"] = o.coalesce->writes;
    doc["coalesced_packets"] = o.coalesce->coalesced;
  }
  if (o.send != nullptr) {
    doc["send_syscalls"] = o.send->syscalls;
    doc["gso_sends"] = o.send->gso_sends;
    doc["gso_refusals"] = o.send->gso_refusals;
  }
  return doc;
}

}  // namespace

std::string status_json(const StatusView& v) {
  const DataPathCounters& c = v.counters;
  json drops = json::object();
  std::uint64_t dropped = 0;
  agent::add_drops<Drop>(drops, dropped, c.drops);
  json registrations = json::array();
  for (const auto& r : v.registrations) registrations.push_back(agent::registration_json(*r));
  json doc{
      {"agent", "dmux-provider"},
      {"version", std::string(build::kVersion)},
      {"provider_id", v.provider_id.value()},
      {"uptime_seconds", v.uptime_seconds},
      {"gateway", v.config.gateway.to_string()},
      {"listen", v.config.listen.to_string()},
      {"tun", v.tun_name},
      {"client_prefix", to_string(v.config.client_prefix)},
      {"registrations", registrations},
      {"control_replies", v.control_replies.received},
      {"bad_control_replies", v.control_replies.bad},
  };
  metrics::add_counters(doc, kDataPathCounters, c);
  agent::add_ingress_status(doc, drops, dropped, v.ingress, v.now);
  doc["offload"] = offload_json(v.offload);
  doc["dropped_packets"] = dropped;
  doc["drops"] = drops;
  return doc.dump();
}

}  // namespace dmux::provider
