// Serves the registration protocol on the control thread: UDP sockets on the registration
// endpoints (anycast and unicast), the handler, the registry's expiry timer, and a callback when
// the set of registered routers, their keys or their announced RTTs change (GatewayApp republishes
// the forwarding table and tells the mesh then).
//
// Order of work (docs/protocol.md 9.6, 9.7): each wakeup reads a batch of datagrams and answers
// every COOKIE_REQUEST, KEEPALIVE and DEREGISTER in it at once; REGISTERs that pass the cheap
// checks wait until the batch is done, so keepalives never queue behind signature checks. The
// expiry tick first reads everything pending on every endpoint and only then expires, so a
// gateway that stalled judges routers by what they sent, not by its own delay (and the registry
// forgives the silence of the stall itself). ICMP refusals of our TUNNELs come in through
// RouterFeedbackIo and are read, like the endpoints, before each expiry.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/evloop/event_loop.h"
#include "common/net/endpoint.h"
#include "common/net/unique_fd.h"
#include "common/util/clock.h"
#include "common/wire/registration.h"
#include "gateway/registration_config.h"
#include "gateway/router_feedback_io.h"
#include "registry/registration_handler.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

// What status and metrics read, from any thread. Counters are refreshed by the control thread on
// every wakeup, the router list on every change and every expiry tick.
struct RegistrationSnapshot {
  std::vector<registry::RouterStatus> routers;
  registry::RegistrationCounters counters;
  std::uint64_t register_count = 0, register_ns = 0;  // handler time, for cost figures
  std::uint64_t verified_count = 0, verified_ns = 0;  // REGISTERs that reached the certificate
  std::uint64_t keepalive_count = 0, keepalive_ns = 0;
  registry::LivenessCounters liveness;
  bool router_feedback = false;  // the ICMP socket is open
  registry::FeedbackCounters feedback;
};

class RegistrationServer {
 public:
  // What changed among the registered routers (each router once): routers up or changed, and
  // routers gone. Called on the control thread after each batch of input and each expiry tick.
  using OnChange = std::function<void(const std::vector<registry::RouterChange>&)>;

  // Loads the CA and binds every endpoint; throws naming what failed.
  RegistrationServer(evloop::EventLoop& loop, const RegistrationConfig& config, OnChange on_change,
                     const util::Clock& clock = util::system_clock());
  ~RegistrationServer();

  // Control thread only.
  // The up routers with their announced RTTs (registry::rtt_change_worth_announcing) and the
  // evidence of their registrations (tunnel keys and signed proofs, for the data plane and mesh).
  [[nodiscard]] std::vector<registry::UpRouter> routers() const {
    return registry_.up_routers_with_rtt();
  }
  // From now on REGISTERs with these certificates are refused (`revoked`), and the routers
  // registered with them are withdrawn at once (docs/protocol.md 10.1). `serials` come from a CRL
  // the caller verified; each call replaces the previous set.
  void revoke(const std::vector<crypto::SerialNumber>& serials);
  // Any thread.
  [[nodiscard]] RegistrationSnapshot snapshot() const;

 private:
  static constexpr std::size_t kBatch = 64;
  static constexpr std::size_t kMaxDatagram =
      wire::kRegisterFixedLen + wire::kMaxCertificateLen + 2 + wire::kSignatureLen;
  using Buffer = std::array<std::byte, kMaxDatagram + 1>;  // +1: longer is visibly too long
  struct Deferred {
    Buffer bytes;
    std::size_t len = 0;
    net::Endpoint from;
    int fd = -1;
  };

  void on_readable(int fd) noexcept;
  void on_tick() noexcept;
  // Reads and handles up to `max` datagrams from `fd`; returns how many it read.
  std::size_t drain(int fd, std::size_t max) noexcept;
  void handle(int fd, std::span<const std::byte> d, const net::Endpoint& from) noexcept;
  void finish_deferred() noexcept;
  void reply(int fd, const net::Endpoint& to, std::size_t len) noexcept;
  void notify_if_changed() noexcept;
  void log_liveness() noexcept;
  void log_liveness_events() noexcept;
  void refresh_snapshot(bool routers) noexcept;

  RegistrationConfig config_;
  const util::Clock& clock_;
  OnChange on_change_;
  crypto::CertVerifier verifier_;
  registry::RouterRegistry registry_;
  registry::RegistrationHandler handler_;
  std::uint64_t published_version_ = 0;
  std::uint64_t published_rtt_version_ = 0;
  std::vector<net::UniqueFd> fds_;
  std::vector<std::unique_ptr<evloop::IoWatcher>> watchers_;
  evloop::Timer tick_;
  std::vector<Buffer> rx_;          // kBatch receive buffers, allocated once
  std::vector<Deferred> deferred_;  // capacity kDeferred, allocated once
  std::unique_ptr<RouterFeedbackIo> feedback_;
  registry::LivenessCounters logged_liveness_;
  std::size_t deferred_count_ = 0;
  std::array<std::byte, 256> reply_{};
  std::uint64_t register_count_ = 0, register_ns_ = 0, verified_count_ = 0, verified_ns_ = 0;
  std::uint64_t keepalive_count_ = 0, keepalive_ns_ = 0;
  mutable std::mutex snapshot_mu_;
  RegistrationSnapshot snapshot_;
};

}  // namespace dmux::gateway
