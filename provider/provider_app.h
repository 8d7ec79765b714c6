// dmux-provider assembled: the listen socket, the TUN device and its route, the packet path, one
// registration client per protocol, the control socket, signals. Everything runs on one thread,
// the event loop's: the agent's data rate is bounded by the TUN device, and the control plane's
// work (a signature per REGISTER, an HMAC per keepalive) is tiny.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/evloop/event_loop.h"
#include "common/net/unique_fd.h"
#include "provider/config.h"
#include "common/control/control_server.h"
#include "provider/credentials.h"
#include "provider/packet_path.h"
#include "provider/registration_client.h"
#include "common/net/tun_device.h"
#include "provider/client_prefix_route.h"

namespace dmux::provider {

class ProviderApp final : private GatewayLink {
 public:
  // Opens the socket, creates the TUN device and route, binds the control socket. Throws
  // std::exception on any start-up failure (with nothing left behind).
  ProviderApp(ProviderConfig config, Credentials credentials);
  ~ProviderApp() override;
  ProviderApp(const ProviderApp&) = delete;
  ProviderApp& operator=(const ProviderApp&) = delete;

  // Registers and serves until SIGTERM or SIGINT, then deregisters and returns.
  void run();

 private:
  void send(std::span<const std::byte> message) noexcept override;  // GatewayLink
  void on_socket_readable() noexcept;
  void on_tun_readable() noexcept;
  void on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from) noexcept;
  void send_reply() noexcept;
  void on_tun_packet(std::span<const std::byte> packet) noexcept;
  void on_control_reply(std::span<const std::byte> datagram, std::uint8_t type) noexcept;
  void on_timer() noexcept;
  void rearm_timer() noexcept;
  void shutdown(const char* why) noexcept;
  std::string handle_command(std::string_view command);

  ProviderConfig config_;
  Credentials credentials_;
  double start_time_;
  evloop::EventLoop loop_;
  net::UniqueFd socket_;
  net::TunDevice tun_;
  ClientPrefixRoute route_;
  PacketPath path_;
  ControlReplyCounters control_replies_;
  std::vector<std::unique_ptr<RegistrationClient>> registrations_;
  std::vector<std::byte> socket_buffer_;  // one received datagram
  std::vector<std::byte> tun_buffer_;     // one packet read from the TUN device
  agent::Reply reply_;                    // a TOKEN_OFFER or address offer to send (reused)
  evloop::Timer timer_;
  std::unique_ptr<evloop::IoWatcher> socket_watcher_;
  std::unique_ptr<evloop::IoWatcher> tun_watcher_;
  std::vector<std::unique_ptr<evloop::SignalWatcher>> signals_;
  std::unique_ptr<control::ControlServer> control_;
};

}  // namespace dmux::provider
