// The gateway mesh on the control thread: accepts and dials TLS links to every other gateway,
// authenticates them by certificate, keeps one link per pair, tells every peer about this
// gateway's registrations (FULL_STATE on link up, UPDATE on each change), learns theirs into
// RemoteRouters, and probes every peer's RTT over its link. docs/protocol.md section 12.
//
// Control thread only, except snapshot() (any thread). Peers are untrusted until their
// certificate verifies against the operator's CA with role=gateway; even then every frame is
// parsed with exact-length checks, and a misbehaving peer is disconnected and counted.
#pragma once

#include <array>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/crypto/tls.h"
#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "mesh/link.h"
#include "mesh/mesh_config.h"
#include "mesh/remote_routers.h"
#include "common/util/rtt_estimator.h"

namespace dmux::mesh {

struct MeshCounters {
  std::uint64_t links_accepted = 0, links_dialed = 0;
  std::uint64_t links_failed = 0;  // closed before the peer was authenticated and said HELLO
  std::array<std::uint64_t, 6> auth_refused{};  // by crypto::VerifyResult (kOk unused)
  std::uint64_t hello_mismatch = 0;             // HELLO id differs from the certificate's
  std::uint64_t protocol_violations = 0;        // frame before HELLO, foreign origin, ...
  std::uint64_t self_links = 0, duplicate_links = 0, dead_links = 0;
  std::array<std::uint64_t, wire::mesh::kStatusCount> bad_frames{};  // by wire::mesh::Status
  std::uint64_t updates_sent = 0, updates_received = 0, updates_not_applied = 0;
  std::uint64_t full_states_sent = 0, full_states_received = 0;
  std::uint64_t probes_sent = 0, probe_replies = 0;
  std::uint64_t bytes_in = 0, bytes_out = 0;  // TLS payload bytes, all links
};

struct PeerStatus {
  std::uint32_t gateway_id = 0;  // 0 = a seed not reached yet
  net::Endpoint mesh_endpoint;
  const char* state = "down";  // up, connecting, down
  bool outbound = false;       // who opened the current link
  std::optional<std::chrono::microseconds> rtt;
  double loss = 0;
  std::size_t routers = 0;  // routers learned from it
  Version version;
  double state_seconds = 0;  // in the current state
};

struct MeshSnapshot {
  std::vector<PeerStatus> peers;
  MeshCounters counters;
  Version local_version;
  std::size_t local_routers = 0;
  std::size_t remote_routers = 0;
  net::Endpoint listen;
};

class MeshServer final : private LinkEvents {
 public:
  using OnChange = std::function<void()>;  // remote routers or distances changed

  // Loads the credentials and the CA, binds the listen socket; throws naming what failed.
  MeshServer(evloop::EventLoop& loop, const MeshConfig& config, OnChange on_change);
  ~MeshServer();

  // This gateway's registrations changed: the whole set now. Sends UPDATEs for the difference (a
  // router whose router_rtt_us changed is re-announced; the caller decides when that is worth it).
  void set_local_routers(const std::vector<RouterRecord>& routers);
  [[nodiscard]] std::vector<RemoteRouter> remote_routers() const { return remote_.routers(); }
  [[nodiscard]] std::optional<std::chrono::microseconds> rtt_to(std::uint32_t gateway) const;
  [[nodiscard]] MeshSnapshot snapshot() const;  // any thread
  [[nodiscard]] net::Endpoint listen_endpoint() const noexcept { return listen_; }

 private:
  struct Peer {
    net::Endpoint mesh_endpoint;
    std::uint64_t link_id = 0;  // the established link; 0 = down
    util::RttEstimator rtt;
    std::uint64_t probe_seq = 0;
    std::optional<std::chrono::microseconds> published_rtt;
    std::int64_t since_us = 0;
    Version version;
  };
  struct Target {
    std::optional<std::uint32_t> gateway_id;
    bool self = false;
    std::uint64_t link_id = 0;  // a dial in progress or established
    std::int64_t next_attempt_us = 0;
    std::chrono::milliseconds backoff{};
  };

  void on_link_open(Link& link) override;
  void on_link_frame(Link& link, wire::mesh::Type type, std::span<const std::byte> body) override;
  void on_link_bad_frame(Link& link, wire::mesh::Status status) override;
  void on_link_closed(Link& link, const std::string& reason) override;

  void on_accept() noexcept;
  void on_tick() noexcept;
  [[nodiscard]] std::vector<Link*> established_links() const;
  void on_probe_timer() noexcept;
  void dial(const net::Endpoint& ep, Target& t) noexcept;
  void on_hello(Link& link, std::span<const std::byte> body);
  void on_full_state(Link& link, std::span<const std::byte> body);
  void on_update(Link& link, std::span<const std::byte> body);
  void on_probe_reply(Link& link, std::span<const std::byte> body);
  void on_peers(std::span<const std::byte> body);
  void establish(Link& link, const wire::mesh::Hello& hello);
  void send_full_state(Link& link);
  void broadcast_peers();
  void add_target(const net::Endpoint& ep, std::optional<std::uint32_t> id);
  void changed() noexcept;
  void refresh_snapshot() noexcept;
  Link* find_link(std::uint64_t id) noexcept;

  evloop::EventLoop& loop_;
  MeshConfig config_;
  OnChange on_change_;
  crypto::TlsContext tls_;
  crypto::CertVerifier verifier_;
  RemoteRouters remote_;
  net::UniqueFd listen_fd_;
  net::Endpoint listen_;
  std::unique_ptr<evloop::IoWatcher> accept_watcher_;
  evloop::Timer tick_, probe_timer_, reap_;
  std::uint64_t next_link_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Link>> links_;
  std::vector<std::unique_ptr<Link>> graveyard_;  // closed links, destroyed by reap_
  std::map<net::Endpoint, Target> targets_;
  std::map<std::uint32_t, Peer> peers_;
  std::set<RouterRecord> local_;
  Version version_;
  MeshCounters counters_;
  std::uint64_t closed_bytes_in_ = 0, closed_bytes_out_ = 0;
  mutable std::mutex snapshot_mu_;
  MeshSnapshot snapshot_;
};

}  // namespace dmux::mesh
