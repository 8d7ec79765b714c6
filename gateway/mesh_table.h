// Builds dmuxd's forwarding table from the routers known here (static, registered at this
// gateway) and those learned over the mesh, keeping for every (proto_id, provider_id) and every
// (proto_id, any) only the nearest tier (mesh/selection.h, docs/protocol.md 8). Control thread,
// on every change; never per packet.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "gateway/forwarding_table.h"
#include "mesh/local_records.h"
#include "mesh/remote_routers.h"
#include "mesh/selection.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

using GatewayRtt = std::function<std::optional<std::chrono::microseconds>(std::uint32_t gateway)>;

using LocalRouterRtt =
    std::function<std::optional<std::chrono::microseconds>(const RouterEntry& router)>;

// `local`: static and registered routers (cost 0 to reach their gateway: this one);
// `local_rtt` (if set) gives a local router's own distance to this gateway, from its keepalives.
// `remote`: routers at other gateways; `rtt_to` gives the distance to each origin gateway.
std::shared_ptr<const ForwardingTable> build_mesh_table(
    std::vector<RouterEntry> local, const std::vector<std::shared_ptr<const mesh::RemoteRouter>>& remote,
    const GatewayRtt& rtt_to, const mesh::SelectionConfig& config,
    const LocalRouterRtt& local_rtt = {});

// What the mesh announces for a router registered here: its record with the tunnel key and the
// provider's signed proof (docs/protocol.md 12.2).
mesh::LocalRouter local_router_of(const registry::UpRouter& r);

}  // namespace dmux::gateway
