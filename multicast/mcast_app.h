// dmux-mcast assembled: the listen socket (TUNNEL, registration replies and peer messages share
// it), the router, the ipv4-multicast registration, the control socket, signals. Everything runs
// on the event loop's one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "multicast/config.h"
#include "multicast/mcast_router.h"
#include "multicast/metrics_exporter.h"
#include "multicast/readiness.h"
#include "provider/counters.h"
#include "provider/credentials.h"
#include "provider/registration_client.h"

namespace dmux::multicast {

class McastApp final : private provider::GatewayLink, private Transport {
 public:
  // Opens the socket and the control socket. Throws std::exception on any start-up failure.
  McastApp(McastConfig config, provider::Credentials credentials, const PeerKey& peer_key);
  ~McastApp() override;
  McastApp(const McastApp&) = delete;
  McastApp& operator=(const McastApp&) = delete;

  // Registers and serves until SIGTERM or SIGINT, then deregisters and returns.
  void run();

 private:
  void send(std::span<const std::byte> message) noexcept override;  // GatewayLink
  bool send_return(const Member& to, std::span<const std::byte> header,
                   std::span<const std::byte> packet) noexcept override;  // Transport
  bool send_peer(const net::Endpoint& to, std::span<const std::byte> message) noexcept override;
  void on_socket_readable() noexcept;
  void on_control_reply(std::span<const std::byte> datagram, std::uint8_t type) noexcept;
  void on_timer() noexcept;
  void rearm_timer() noexcept;
  void shutdown(const char* why) noexcept;
  std::string handle_command(std::string_view command);
  void publish_metrics() noexcept;  // once a second, when --metrics-listen is set

  McastConfig config_;
  provider::Credentials credentials_;
  double start_time_;
  evloop::EventLoop loop_;
  net::UniqueFd socket_;
  std::unique_ptr<McastRouter> router_;
  std::unique_ptr<provider::RegistrationClient> registration_;
  provider::ControlReplyCounters control_replies_;
  std::vector<std::byte> buffer_;  // one received datagram
  evloop::Timer timer_;
  // When the armed timer fires (max: not armed). A busy socket must not keep pushing it back.
  MonoTime timer_due_ = MonoTime::max();
  Readiness readiness_;  // before registering: waiting for the peer links
  void register_when_ready(MonoTime at) noexcept;
  std::unique_ptr<evloop::IoWatcher> socket_watcher_;
  std::vector<std::unique_ptr<evloop::SignalWatcher>> signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<evloop::Timer> metrics_timer_;
};

}  // namespace dmux::multicast
