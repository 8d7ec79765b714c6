// dmux-provider assembled: the listen socket, the TUN device and its route, the packet path, one
// registration client per protocol, the control socket, signals. Everything runs on one thread,
// the event loop's: the control plane's work (a signature per REGISTER, an HMAC per keepalive) is
// tiny.
//
// The data path in bursts, with offloads on both sides (common/net/README.md): TUNNELs arrive by
// recvmmsg with UDP_GRO, their IPv6 packets are coalesced (GroBatch) into few TUN writes at the
// end of each burst; the TUN (IFF_VNET_HDR, TSO) hands over super-packets, cut (segment_packet)
// into RETURNs that leave as UDP GSO runs in one sendmmsg at the end of each burst. Nothing waits
// on a timer: every burst is flushed before the loop sleeps again.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/control_reply.h"
#include "agent/registration_client.h"
#include "common/app/daemon_wiring.h"
#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/net/gro.h"
#include "common/net/tun_device.h"
#include "common/net/udp_gro.h"
#include "common/net/udp_gso.h"
#include "common/net/unique_fd.h"
#include "common/util/clock.h"
#include "provider/client_prefix_route.h"
#include "provider/config.h"
#include "provider/credentials.h"
#include "provider/metrics_exporter.h"
#include "provider/packet_path.h"

namespace dmux::provider {

class ProviderApp final : private agent::GatewayLink {
 public:
  // Opens the socket, creates the TUN device and route, binds the control socket. Throws
  // std::exception on any start-up failure (with nothing left behind). Every reading of time goes
  // through `clock` (the process's SystemClock in the program).
  ProviderApp(ProviderConfig config, Credentials credentials,
              const util::Clock& clock = util::system_clock());
  ~ProviderApp() override;
  ProviderApp(const ProviderApp&) = delete;
  ProviderApp& operator=(const ProviderApp&) = delete;

  // Registers and serves until SIGTERM or SIGINT, then deregisters and returns.
  void run();

 private:
  void send(std::span<const std::byte> message) noexcept override;  // agent::GatewayLink
  void on_socket_readable() noexcept;
  void on_tun_readable() noexcept;
  void on_tunnel(std::span<std::byte> datagram, const net::Endpoint& from,
                 agent::MonoTime now) noexcept;
  void send_reply() noexcept;
  void flush_to_tun() noexcept;
  void on_tun_read(std::span<const std::byte> bytes) noexcept;
  void on_control_reply(std::span<const std::byte> datagram, std::uint8_t type) noexcept;
  void on_timer() noexcept;
  void rearm_timer() noexcept;
  void shutdown(const char* why) noexcept;
  std::string handle_command(std::string_view command);
  void publish_metrics() noexcept;  // once a second, when --metrics-listen is set

  const util::Clock& clock_;
  ProviderConfig config_;
  Credentials credentials_;
  double start_time_;
  evloop::EventLoop loop_;
  net::UniqueFd socket_;
  net::TunDevice tun_;
  ClientPrefixRoute route_;
  PacketPath path_;
  agent::ControlReplyCounters control_replies_;
  std::vector<std::unique_ptr<agent::RegistrationClient>> registrations_;
  net::UdpBatchReceiver receiver_;     // TUNNELs (and registration replies), UDP_GRO
  net::GroBatch to_tun_;               // IPv6 packets of one burst, coalesced for the TUN
  net::UdpSendBatch returns_;          // RETURNs of one burst, UDP GSO
  std::vector<std::byte> tun_buffer_;  // one read from the TUN device (vnet hdr + packet)
  agent::Reply reply_;                 // a TOKEN_OFFER or address offer to send (reused)
  evloop::Timer timer_;
  std::unique_ptr<evloop::IoWatcher> socket_watcher_;
  std::unique_ptr<evloop::IoWatcher> tun_watcher_;
  std::unique_ptr<app::StopSignals> signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<MetricsExporter> metrics_;
  std::unique_ptr<evloop::Timer> metrics_timer_;
};

}  // namespace dmux::provider
