// The gateway mesh on the control thread (docs/protocol.md section 12): accepts and dials TLS
// links to every other gateway, authenticates them by certificate, keeps one link per pair, tells
// every peer about this gateway's registrations (FULL_STATE on link up, UPDATE on each change,
// with the provider's signed proof and the router's tunnel key), learns theirs (verified record
// by record, in bounded slices), and probes every peer's RTT over its link.
//
// The pieces with logic of their own are pure and tested on their own: HandshakeLimiter (who may
// start a handshake), PeerDirectory (who is dialled), RecordIntake + record_check (what a peer's
// records are worth), RemoteRouters (what is held, with caps), LocalRecords (what is announced),
// util::RttEstimator. This class wires them to sockets and timers; its code is split by concern
// over mesh_server.cpp (links, accept, dial, tick), mesh_state.cpp (frames, records, local
// routers), mesh_probes.cpp (probes) and mesh_snapshot.cpp (status).
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
#include <string>
#include <vector>

#include "common/crypto/crl.h"
#include "common/crypto/crypto.h"
#include "common/crypto/tls.h"
#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "common/util/rtt_estimator.h"
#include "mesh/handshake_limiter.h"
#include "mesh/link.h"
#include "mesh/local_records.h"
#include "mesh/mesh_config.h"
#include "mesh/peer_directory.h"
#include "mesh/record_check.h"
#include "mesh/record_intake.h"
#include "mesh/remote_routers.h"

namespace dmux::mesh {

struct MeshCounters {
  std::uint64_t links_accepted = 0, links_dialed = 0;
  std::uint64_t links_failed = 0;        // closed before the peer was authenticated and said HELLO
  std::uint64_t handshakes_refused = 0;  // inbound connections over the handshake limits
  std::array<std::uint64_t, crypto::kVerifyResults> auth_refused{};  // by VerifyResult
  std::uint64_t hello_mismatch = 0;       // HELLO id differs from the certificate's
  std::uint64_t protocol_violations = 0;  // frame before HELLO, foreign origin, ...
  std::uint64_t self_links = 0, duplicate_links = 0, dead_links = 0;
  std::array<std::uint64_t, wire::mesh::kStatusCount> bad_frames{};  // by wire::mesh::Status
  std::array<std::uint64_t, kCloseReasons> closes{};                 // by CloseReason
  std::uint64_t updates_sent = 0, updates_received = 0, updates_not_applied = 0;
  std::uint64_t full_states_sent = 0, full_states_received = 0;  // parts
  std::uint64_t certificates_received = 0, certificates_refused = 0;
  std::uint64_t probes_sent = 0, probe_replies = 0;
  std::uint64_t own_stalls = 0;  // ticks after a stall of our own loop: nobody judged silent
  std::uint64_t crls_adopted = 0, crls_ignored = 0;  // newer and CA-signed / anything else
  std::uint64_t crl_number = 0;                      // of the CRL in force (0: none)
  std::uint64_t bytes_in = 0, bytes_out = 0;         // TLS payload bytes, all links
  IntakeCounters intake;
  DirectoryCounters directory;
  std::uint64_t slices = 0;            // record-verification slices run
  std::uint64_t longest_slice_us = 0;  // the longest one (the control thread's longest hold)
};

enum class PeerState : std::uint8_t { kDown, kConnecting, kUp };
const char* to_string(PeerState s) noexcept;

struct PeerStatus {
  wire::GatewayId gateway_id;  // 0 = a seed not reached yet
  net::Endpoint mesh_endpoint;
  const char* state = "down";  // to_string(PeerState): up, connecting, down
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
  std::size_t records_queued = 0;  // waiting for verification
  net::Endpoint listen;
};

// What changed, for the forwarding table: routers learnt, replaced or gone, and the gateways whose
// distance moved noticeably (by more than max(100 us, 10%)).
struct MeshChanges {
  RemoteChanges routers;
  std::vector<std::uint32_t> rtt_moved;
};

class MeshServer final : private LinkEvents {
 public:
  using OnChange = std::function<void(const MeshChanges&)>;
  // A CRL newer than the one in force was adopted (from --crl or from a peer): the rest of the
  // gateway applies it too (registrations made with revoked certificates).
  using OnCrl = std::function<void(const crypto::Crl&)>;

  // Loads the credentials and the CA, binds the listen socket; throws naming what failed.
  MeshServer(evloop::EventLoop& loop, const MeshConfig& config, OnChange on_change,
             OnCrl on_crl = {});
  ~MeshServer();

  // This gateway's registrations: the whole set (diffed), or one router at a time.
  void set_local_routers(const std::vector<LocalRouter>& routers);
  void local_router_up(const LocalRouter& router);
  void local_router_down(const RouterId& id);

  // Adopts `crl` if the operator's CA signed it and it is newer than the one in force: revoked
  // gateways' links close, records with revoked certificates go, and every peer gets it
  // (docs/protocol.md 10.1, 12.7). Returns false (and changes nothing) otherwise.
  bool install_crl(const crypto::Crl& crl);

  [[nodiscard]] std::vector<std::shared_ptr<const RemoteRouter>> remote_routers() const {
    return remote_.routers();
  }
  [[nodiscard]] std::optional<std::chrono::microseconds> rtt_to(wire::GatewayId gateway) const;
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
    crypto::SerialNumber serial;  // of its certificate
  };
  // What the mesh keeps per link besides the Link itself.
  struct LinkData {
    crypto::SerialNumber peer_serial;  // of the peer's certificate, once TLS is up
    std::uint32_t source = 0;  // inbound: counted by the handshake limiter until authenticated
    bool limited = false;
    net::Endpoint dialled;  // outbound: the directory's endpoint
    CertificateStore certs;
    SentCertificates sent;
    explicit LinkData(std::size_t cert_capacity) : certs(cert_capacity) {}
  };

  // mesh_server.cpp: links.
  void on_link_open(Link& link) override;
  void on_link_frame(Link& link, wire::mesh::Type type, std::span<const std::byte> body) override;
  void on_link_bad_frame(Link& link, wire::mesh::Status status) override;
  void on_link_closed(Link& link, CloseReason reason, const std::string& detail) override;
  void on_accept() noexcept;
  void dial(const net::Endpoint& ep) noexcept;
  void on_tick() noexcept;
  void close_stale_links(std::int64_t now, bool own_stall);
  [[nodiscard]] std::vector<Link*> established_links() const;
  Link* find_link(std::uint64_t id) noexcept;
  LinkData& data(const Link& link);
  void changed(MeshChanges changes) noexcept;

  // mesh_state.cpp: frames and router state.
  void dispatch(Link& link, wire::mesh::Type type, std::span<const std::byte> body);
  void on_hello(Link& link, std::span<const std::byte> body);
  void establish(Link& link, const wire::mesh::Hello& hello);
  void on_full_state(Link& link, std::span<const std::byte> body);
  void on_update(Link& link, std::span<const std::byte> body);
  void on_certificate(Link& link, std::span<const std::byte> body);
  void on_peers(Link& link, std::span<const std::byte> body);
  void on_crl(Link& link, std::span<const std::byte> body);
  void send_crl(Link& link);
  void send_full_state(Link& link);
  void broadcast_local(const std::vector<LocalChange>& changes);
  void broadcast_peers();
  void schedule_intake() noexcept;
  void run_intake() noexcept;

  // mesh_probes.cpp.
  void on_probe(Link& link, std::span<const std::byte> body);
  void on_probe_reply(Link& link, std::span<const std::byte> body);
  void on_probe_timer() noexcept;

  // mesh_snapshot.cpp.
  void refresh_snapshot() noexcept;

  evloop::EventLoop& loop_;
  MeshConfig config_;
  OnChange on_change_;
  OnCrl on_crl_;
  crypto::Certificate ca_;
  std::optional<crypto::Crl> crl_;  // in force
  RevokedSerials revoked_;          // its serials
  crypto::TlsContext tls_;
  crypto::CertVerifier verifier_;
  RemoteRouters remote_;
  SignatureCache signatures_;
  RecordIntake intake_;
  LocalRecords local_;
  HandshakeLimiter limiter_;
  PeerDirectory directory_;
  net::UniqueFd listen_fd_;
  net::Endpoint listen_;
  std::unique_ptr<evloop::IoWatcher> accept_watcher_;
  evloop::Timer tick_, probe_timer_, reap_, intake_timer_;
  std::uint64_t next_link_id_ = 1;
  std::map<std::uint64_t, std::unique_ptr<Link>> links_;
  std::map<std::uint64_t, LinkData> link_data_;
  std::vector<std::unique_ptr<Link>> graveyard_;  // closed links, destroyed by reap_
  std::map<std::uint32_t, Peer> peers_;
  std::int64_t last_tick_us_ = 0;
  MeshCounters counters_;
  std::uint64_t closed_bytes_in_ = 0, closed_bytes_out_ = 0;
  mutable std::mutex snapshot_mu_;
  MeshSnapshot snapshot_;
};

}  // namespace dmux::mesh
