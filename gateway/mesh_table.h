// Glue between the registry, the mesh and the forwarding table of a meshed gateway:
//  - local_router_of: what the mesh announces for a router registered here (its record with the
//    tunnel key and the provider's signed proof, docs/protocol.md 12.2);
//  - build_mesh_table: a whole table at once from local and remote routers (tests and tools; the
//    gateway itself keeps a TableBuilder up to date by deltas, gateway/table_builder.h).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/dataplane/forwarding_table.h"
#include "gateway/table_builder.h"
#include "mesh/local_records.h"
#include "mesh/remote_routers.h"
#include "mesh/selection.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

using GatewayRtt = TableBuilder::GatewayRtt;

using LocalRouterRtt =
    std::function<std::optional<std::chrono::microseconds>(const RouterEntry& router)>;

// `local`: static and registered routers (cost 0 to reach their gateway: this one);
// `local_rtt` (if set) gives a local router's own distance to this gateway, from its keepalives.
// `remote`: routers at other gateways; `rtt_to` gives the distance to each origin gateway.
std::shared_ptr<const ForwardingTable> build_mesh_table(
    const std::vector<RouterEntry>& local,
    const std::vector<std::shared_ptr<const mesh::RemoteRouter>>& remote, const GatewayRtt& rtt_to,
    const mesh::SelectionConfig& config, const LocalRouterRtt& local_rtt = {});

mesh::LocalRouter local_router_of(const registry::UpRouter& r);

}  // namespace dmux::gateway
