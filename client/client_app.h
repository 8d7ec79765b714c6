// dmux-client assembled: the tunnel socket, the TUN device and its routes, the policy routing
// rules and our iptables chain (which select the host packets routed into the TUN device), the
// route watch (native IPv6 coming and going), the data path, the return tokens, the address
// offer, the control socket and signals. One thread, the event loop's; the data path's system
// calls, with the kernel's offloads, are TunnelIo's.
//
// Start-up order (each step undone if a later one fails, and at exit in reverse): UDP socket, TUN
// device, IPv6 routes into it (unless the host has native IPv6), the IPv4 routing table into it,
// 224.0.0.0/4 into it and the host's IPv4 addresses mirrored onto it, iptables rules, control
// socket; then the token requests go out; each generic selector's routing rule is added once its
// token is known (and, once the ipv6 token is known, the solicitation; once the ipv4-multicast
// token is known, a membership query into the TUN device).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/address_mirror.h"
#include "client/address_offer.h"
#include "client/capture_path.h"
#include "client/config.h"
#include "client/firewall.h"
#include "client/metrics_exporter.h"
#include "client/policy_routes.h"
#include "client/return_tokens.h"
#include "client/route_watch.h"
#include "client/tunnel_io.h"
#include "common/app/daemon_wiring.h"
#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/net/tun_device.h"
#include "common/net/unique_fd.h"

namespace dmux::client {

class ClientApp : private ReturnHandler {
 public:
  // Throws std::exception on any start-up failure, with nothing left behind.
  explicit ClientApp(ClientConfig config);
  ~ClientApp();
  ClientApp(const ClientApp&) = delete;
  ClientApp& operator=(const ClientApp&) = delete;

  // Serves until SIGTERM or SIGINT.
  void run();

 private:
  // Nonces of TOKEN_REQUESTs, from getrandom.
  class RandomNonces : public NonceSource {
   public:
    std::uint64_t next_nonce() noexcept override;
  };

  void on_tun_readable() noexcept;
  void on_routes_changed() noexcept;
  void set_ipv6_active(bool active) noexcept;
  void enable_routing_rule(std::uint16_t proto_id) noexcept;
  void on_socket_readable() noexcept;
  void on_other_return(CapturePath::ReturnKind kind, const ReturnResult& r,
                       const net::Endpoint& from, Clock::time_point now) noexcept override;
  void note_old_version(const net::Endpoint& from, Clock::time_point now) noexcept;
  void on_advert(const Offer& offer, Clock::time_point now) noexcept;
  void on_token_offer(const ReturnResult& r, Clock::time_point now) noexcept;
  void on_timer() noexcept;
  void send_control(const wire::ShimHeader& h, std::span<const std::byte> payload) noexcept;
  void send_token_request(const TokenRequest& r) noexcept;
  void send_solicitation() noexcept;
  void warn_unanswered(const TokenRequest& r) const noexcept;
  void warn_no_address(AddressOffer::Warning w, Clock::time_point now) const noexcept;
  void set_up_ipv4_capture();
  void refresh_host_addresses() noexcept;
  void solicit_reports() noexcept;
  void rearm_timer() noexcept;
  std::string handle_command(std::string_view command);
  [[nodiscard]] const Selector* ipv6_selector() const noexcept;

  ClientConfig config_;
  bool ipv6_active_ = false;  // an ipv6 selector, not phased out
  double start_time_;
  evloop::EventLoop loop_;
  net::UniqueFd socket_;
  sockaddr_in gateway_{};
  net::TunDevice tun_;
  RandomNonces nonces_;
  ReturnTokens tokens_;            // one per active selector's protocol
  std::vector<TokenRequest> due_;  // tokens_.size() slots for on_timer()
  CapturePath path_;
  AddressOffer offer_;
  std::unique_ptr<PolicyRoutes> policy_;      // generic selectors only
  std::unique_ptr<IpAddressOps> mirror_ops_;  // ipv4-multicast only
  std::unique_ptr<AddressMirror> mirror_;     // ipv4-multicast only
  std::unique_ptr<FirewallRules> firewall_;
  std::unique_ptr<RouteWatch> route_watch_;  // phase-out of an ipv6 selector only
  std::unique_ptr<TunnelIo> io_;
  // RETURNs of another protocol version (docs/protocol.md 2.1): logged at most once a minute.
  std::uint64_t old_versions_unlogged_ = 0;
  std::uint64_t old_versions_seen_ = 0;  // the path's unsupported_version count
  std::optional<Clock::time_point> old_version_logged_;
  evloop::Timer timer_;       // token requests and solicitations, at their soft state's deadline
  evloop::Timer host_timer_;  // re-reads the host's IPv4 addresses (generic, ipv4-multicast)
  std::unique_ptr<evloop::IoWatcher> tun_watcher_;
  std::unique_ptr<evloop::IoWatcher> route_watcher_;
  std::unique_ptr<evloop::IoWatcher> socket_watcher_;
  std::unique_ptr<app::StopSignals> signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<evloop::Timer> metrics_timer_;  // hands the exporter the counters every second
  void publish_metrics() noexcept;
};

}  // namespace dmux::client
