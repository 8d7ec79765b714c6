#include "gateway/mesh_table.h"

#include "common/wire/shim.h"

namespace dmux::gateway {

mesh::LocalRouter local_router_of(const registry::UpRouter& r) {
  mesh::LocalRouter out;
  wire::mesh::Router& rec = out.record;
  rec.id = r.id;
  rec.router_rtt_us = r.rtt_us;
  rec.key_id = r.evidence.key_id;
  rec.suite = wire::kSuiteAes256Gmac;
  rec.tunnel_key = r.evidence.tunnel_key;
  rec.proof = r.evidence.proof;
  out.certificate = r.evidence.certificate;
  return out;
}

std::shared_ptr<const ForwardingTable> build_mesh_table(
    const std::vector<RouterEntry>& local,
    const std::vector<std::shared_ptr<const mesh::RemoteRouter>>& remote, const GatewayRtt& rtt_to,
    const mesh::SelectionConfig& config, const LocalRouterRtt& local_rtt) {
  TableBuilder b(config, true, rtt_to);
  for (const auto& e : local) b.upsert(e, local_rtt ? local_rtt(e) : std::nullopt);
  mesh::RemoteChanges changes;
  for (const auto& r : remote) {
    changes.push_back(mesh::RemoteChange{mesh::RemoteChange::Kind::kAdded, r->origin, r->id(), r});
  }
  b.apply(changes);
  return b.build();
}

}  // namespace dmux::gateway
