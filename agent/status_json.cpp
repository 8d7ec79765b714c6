#include "agent/status_json.h"

#include <string>

namespace dmux::agent {
namespace {

using nlohmann::json;

json keys_json(const TunnelReceiver& r, MonoTime now) {
  json keys = json::array();
  for (const auto& k : r.keys()) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(k.forget_at - now);
    keys.push_back(json{{"key_id", k.key_id},
                        {"proto_id", k.proto_id.value()},
                        {"static", k.key_id == 0},
                        {"retired", k.retired},
                        {"forget_in_ms", k.retired ? std::max<long long>(left.count(), 0) : -1}});
  }
  return keys;
}

}  // namespace

void add_ingress_status(json& doc, json& drops, std::uint64_t& dropped, const Ingress& ingress,
                        MonoTime now) {
  const TunnelReceiver& r = ingress.receiver();
  const ReceiverCounters& rc = r.counters();
  doc["tunnel_keys"] = keys_json(r, now);
  doc["replay_windows"] = r.windows().size();
  doc["replay_window_evictions"] = r.windows().evictions();
  doc["tunnels_accepted"] = rc.accepted;
  doc["keys_installed"] = rc.keys_installed;
  doc["keys_retired"] = rc.keys_retired;
  doc["keys_forgotten"] = rc.keys_forgotten;
  doc["keys_refused"] = rc.keys_refused;
  doc["token_offers"] = ingress.counters().token_offers;
  doc["allowed_destinations"] = [&] {
    json a = json::array();
    for (const auto& p : ingress.config().allowed_destinations) a.push_back(p.to_string());
    return a;
  }();
  add_drops<TunnelDrop>(drops, dropped, rc.drops);
  add_drops<IngressDrop>(drops, dropped, ingress.counters().drops);
}

}  // namespace dmux::agent
