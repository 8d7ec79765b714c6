// A point-in-time view of the gateway for status output and metrics. Taken on demand (dmuxctl
// request or Prometheus scrape); reading it never touches the data path beyond relaxed loads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "bgp-glue/announcer.h"
#include "common/metrics/daemon_info.h"
#include "gateway/dataplane/counters.h"
#include "gateway/dataplane/forwarding_table.h"
#include "gateway/registration_server.h"
#include "mesh/mesh_server.h"

namespace dmux::gateway {

struct GatewayStats {
  CounterTotals totals;
  std::shared_ptr<const ForwardingTable> table;
  std::size_t workers = 0;
  std::vector<std::uint64_t> worker_received_packets;  // per worker, in worker order
  std::uint64_t table_generation = 0;
  double start_time_seconds = 0;                       // Unix time
  std::optional<RegistrationSnapshot> registration;    // when registration is enabled
  std::optional<mesh::MeshSnapshot> mesh;              // when the mesh is enabled
  std::optional<bgp_glue::AnnounceSnapshot> announce;  // when --announce-prefix is set
  std::uint64_t announce_stray_packets = 0;            // arrived on the announce device
  metrics::DaemonInfo daemon;  // build, certificate expiry, reload outcome (dmux_build_info ...)
};

using StatsSource = std::function<GatewayStats()>;

}  // namespace dmux::gateway
