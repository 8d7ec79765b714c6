#include "gateway/mesh_table.h"

#include <set>
#include <utility>

#include "common/wire/shim.h"

namespace dmux::gateway {

mesh::LocalRouter local_router_of(const registry::UpRouter& r) {
  mesh::LocalRouter out;
  wire::mesh::Router& rec = out.record;
  rec.proto_id = r.key.proto_id;
  rec.provider_id = r.key.provider_id;
  rec.address = r.key.address;
  rec.router_rtt_us = r.rtt_us;
  rec.key_id = r.evidence.key_id;
  rec.suite = wire::kSuiteAes256Gmac;
  rec.tunnel_key = r.evidence.tunnel_key;
  rec.proof = r.evidence.proof;
  out.certificate = r.evidence.certificate;
  return out;
}

std::shared_ptr<const ForwardingTable> build_mesh_table(
    std::vector<RouterEntry> local, const std::vector<std::shared_ptr<const mesh::RemoteRouter>>& remote,
    const GatewayRtt& rtt_to, const mesh::SelectionConfig& config,
    const LocalRouterRtt& local_rtt) {
  std::vector<RouterEntry> entries = std::move(local);
  std::vector<mesh::Candidate> candidates;
  candidates.reserve(entries.size() + remote.size());
  for (const auto& e : entries) {
    candidates.push_back(mesh::Candidate{e.proto_id, e.provider_id, e.address, 0, std::nullopt,
                                         local_rtt ? local_rtt(e) : std::nullopt});
  }
  for (const auto& r : remote) {
    const auto& rec = r->record;
    entries.push_back(RouterEntry{rec.proto_id, rec.provider_id, rec.address, RouterOrigin::kMesh,
                                  r->origin, rec.key_id, r->key});
    std::optional<std::chrono::microseconds> router_rtt;
    if (const auto rtt = r->effective_rtt_us(); rtt != 0) router_rtt = std::chrono::microseconds(rtt);
    candidates.push_back(mesh::Candidate{rec.proto_id, rec.provider_id, rec.address, r->origin,
                                         rtt_to(r->origin), router_rtt});
  }
  // Entries are parallel to candidates until the table sorts its copy.
  std::set<std::pair<std::uint16_t, std::uint32_t>> keys;
  for (const auto& c : candidates) {
    keys.emplace(c.proto_id, c.provider_id);
    keys.emplace(c.proto_id, wire::kAnyProvider);
  }
  std::vector<ForwardingTable::ExplicitGroup> groups;
  groups.reserve(keys.size());
  for (const auto& [proto, provider] : keys) {
    ForwardingTable::ExplicitGroup g{proto, provider, {}};
    for (const std::size_t i : mesh::nearest_tier(candidates, proto, provider, config)) {
      g.members.push_back(entries[i]);
    }
    if (!g.members.empty()) groups.push_back(std::move(g));
  }
  return std::make_shared<const ForwardingTable>(std::move(entries), groups);
}

}  // namespace dmux::gateway
