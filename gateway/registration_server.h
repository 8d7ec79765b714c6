// Serves the registration protocol on the control thread: UDP sockets on the registration
// endpoints (anycast and unicast), the handler, the registry's expiry timer, and a callback when
// the set of registered routers or their announced RTTs change (GatewayApp republishes the forwarding table then).
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "common/crypto/crypto.h"
#include "common/evloop/event_loop.h"
#include "common/net/endpoint.h"
#include "common/net/unique_fd.h"
#include "gateway/registration_config.h"
#include "registry/registration_handler.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

// What status and metrics read, from any thread. Refreshed by the control thread on every
// change and every expiry tick.
struct RegistrationSnapshot {
  std::vector<registry::RouterStatus> routers;
  registry::RegistrationCounters counters;
  std::uint64_t register_count = 0, register_ns = 0;  // handler time, for cost figures
  std::uint64_t keepalive_count = 0, keepalive_ns = 0;
};

class RegistrationServer {
 public:
  using OnChange = std::function<void()>;

  // Loads the CA and binds every endpoint; throws naming what failed.
  RegistrationServer(evloop::EventLoop& loop, const RegistrationConfig& config, OnChange on_change);
  ~RegistrationServer();

  // Control thread only.
  // The up routers with their announced RTTs (registry::rtt_change_worth_announcing).
  [[nodiscard]] std::vector<registry::UpRouter> routers() const {
    return registry_.up_routers_with_rtt();
  }
  // Any thread.
  [[nodiscard]] RegistrationSnapshot snapshot() const;

 private:
  void on_readable(int fd) noexcept;
  void on_tick() noexcept;
  void notify_if_changed() noexcept;
  void refresh_snapshot() noexcept;

  RegistrationConfig config_;
  OnChange on_change_;
  crypto::CertVerifier verifier_;
  registry::RouterRegistry registry_;
  registry::RegistrationHandler handler_;
  std::uint64_t published_version_ = 0;
  std::uint64_t published_rtt_version_ = 0;
  std::vector<net::UniqueFd> fds_;
  std::vector<std::unique_ptr<evloop::IoWatcher>> watchers_;
  evloop::Timer tick_;
  std::uint64_t register_count_ = 0, register_ns_ = 0, keepalive_count_ = 0, keepalive_ns_ = 0;
  mutable std::mutex snapshot_mu_;
  RegistrationSnapshot snapshot_;
};

}  // namespace dmux::gateway
