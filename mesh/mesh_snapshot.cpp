// MeshServer: the snapshot status and metrics read from any thread.
#include "mesh/mesh_server.h"

namespace dmux::mesh {
namespace {

std::int64_t now_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

MeshSnapshot MeshServer::snapshot() const {
  std::lock_guard lock(snapshot_mu_);
  return snapshot_;
}

void MeshServer::refresh_snapshot() noexcept {
  try {
    MeshSnapshot s;
    const std::int64_t now = now_us();
    s.counters = counters_;
    s.counters.intake = intake_.counters();
    s.counters.directory = directory_.counters();
    s.counters.bytes_in = closed_bytes_in_;
    s.counters.bytes_out = closed_bytes_out_;
    for (const auto& [id, link] : links_) {
      s.counters.bytes_in += link->bytes_in();
      s.counters.bytes_out += link->bytes_out();
    }
    for (const auto& [id, p] : peers_) {
      PeerStatus ps;
      ps.gateway_id = wire::GatewayId{id};
      ps.mesh_endpoint = p.mesh_endpoint;
      const Link* link = nullptr;
      if (auto it = links_.find(p.link_id); it != links_.end()) link = it->second.get();
      PeerState state = link != nullptr ? PeerState::kUp : PeerState::kDown;
      if (link == nullptr) {
        for (const auto& [ep, t] : directory_.targets()) {
          if (t.gateway_id == id && t.dialling) state = PeerState::kConnecting;
        }
      }
      ps.state = to_string(state);
      ps.outbound = link != nullptr && link->outbound();
      ps.rtt = p.rtt.rtt();
      ps.loss = p.rtt.loss();
      ps.routers = remote_.count(id);
      ps.version = p.version;
      ps.state_seconds = static_cast<double>(now - p.since_us) / 1e6;
      s.peers.push_back(ps);
    }
    for (const auto& [ep, t] : directory_.targets()) {
      if (t.gateway_id || t.self) continue;
      PeerStatus ps;
      ps.mesh_endpoint = ep;
      ps.state = to_string(t.dialling ? PeerState::kConnecting : PeerState::kDown);
      s.peers.push_back(ps);
    }
    s.local_version = local_.version();
    s.local_routers = local_.size();
    s.remote_routers = remote_.size();
    s.records_queued = intake_.queued_records();
    s.listen = listen_;
    std::lock_guard lock(snapshot_mu_);
    snapshot_ = std::move(s);
  } catch (const std::exception&) {
    // Out of memory: keep the previous snapshot.
  }
}

}  // namespace dmux::mesh
