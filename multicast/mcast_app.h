// dmux-mcast assembled: the listen socket (TUNNEL, registration replies and peer messages share
// it), the router, the ipv4-multicast registration, the control socket, signals. Everything runs
// on the event loop's one thread.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/control_reply.h"
#include "agent/credentials.h"
#include "agent/registration_client.h"
#include "common/app/daemon_wiring.h"
#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "common/util/clock.h"
#include "multicast/config.h"
#include "multicast/mcast_router.h"
#include "multicast/metrics_exporter.h"
#include "multicast/readiness.h"

namespace dmux::multicast {

class McastApp final : private agent::GatewayLink, private Transport {
 public:
  // Opens the socket and the control socket. Throws std::exception on any start-up failure. Every
  // reading of time goes through `clock` (the process's SystemClock in the program).
  McastApp(McastConfig config, agent::Credentials credentials, const PeerKey& peer_key,
           const util::Clock& clock = util::system_clock());
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

  const util::Clock& clock_;
  McastConfig config_;
  agent::Credentials credentials_;
  double start_time_;
  evloop::EventLoop loop_;
  net::UniqueFd socket_;
  std::unique_ptr<McastRouter> router_;
  std::unique_ptr<agent::RegistrationClient> registration_;
  agent::ControlReplyCounters control_replies_;
  std::vector<std::byte> buffer_;  // one received datagram
  evloop::Timer timer_;
  // When the armed timer fires (max: not armed). A busy socket must not keep pushing it back.
  MonoTime timer_due_ = MonoTime::max();
  Readiness readiness_;  // before registering: waiting for the peer links
  void register_when_ready(MonoTime at) noexcept;
  std::unique_ptr<evloop::IoWatcher> socket_watcher_;
  std::unique_ptr<app::StopSignals> signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<evloop::Timer> metrics_timer_;
};

}  // namespace dmux::multicast
