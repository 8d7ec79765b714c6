// The Router's insides (include/ipdmux/router.h is the stable face): the event loop and the one
// UDP socket that TUNNELs, registration replies, peer messages and RETURNs share; agent::Ingress
// (TUNNEL tag, replay, TOKEN_REQUEST answers, return tokens, destination filter); one
// agent::RegistrationClient per configured gateway; the PeerChannel; the control socket and
// the metrics exporter. Everything runs on the thread that calls run().
#pragma once

#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/control_reply.h"
#include "agent/credentials.h"
#include "agent/ingress.h"
#include "agent/registration_client.h"
#include "common/app/daemon_wiring.h"
#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/net/udp_gso.h"
#include "common/net/unique_fd.h"
#include "common/util/clock.h"
#include "ipdmux/router.h"
#include "sdk/metrics_exporter.h"
#include "sdk/peer_channel.h"

namespace ipdmux::sdk {
inline namespace v1 {

namespace dmux = ::dmux;
using MonoTimePoint = std::chrono::steady_clock::time_point;

// The SDK's own counters (single writer: the loop thread).
struct RouterCounters {
  std::uint64_t packets = 0;  // authenticated TUNNELs from proven clients handed to on_packet
  std::uint64_t packet_bytes = 0;
  std::uint64_t token_offers_sent = 0;
  std::uint64_t returns = 0;  // RETURNs sent
  std::uint64_t return_bytes = 0;
  std::uint64_t return_failures = 0;  // sendmsg failed
  std::uint64_t gso_sends = 0;        // send_batch calls that went out as one GSO send
  std::uint64_t peer_sent = 0;
  std::uint64_t peer_messages = 0;    // authenticated, non-empty, handed to on_peer_message
  std::uint64_t peer_heartbeats = 0;  // authenticated, empty
};

struct AppCounter {
  std::string name;
  std::string help;
  std::uint64_t value = 0;
};

// Sends one registration's messages to its gateway, from the router's socket.
class GatewayLink final : public dmux::agent::GatewayLink {
 public:
  GatewayLink(int fd, const dmux::net::Endpoint& gateway) noexcept : fd_(fd), gateway_(gateway) {}
  void send(std::span<const std::byte> message) noexcept override;

 private:
  int fd_;
  dmux::net::Endpoint gateway_;
};

struct Router::Impl {
  // Every reading of time goes through `clock` (the process's SystemClock behind the public API).
  explicit Impl(RouterOptions options, const dmux::util::Clock& clock = dmux::util::system_clock());
  ~Impl();

  void run();
  bool send_return(const Client& to, std::span<const std::byte> payload) noexcept;
  std::size_t send_batch(const Client& to,
                         std::span<const std::span<const std::byte>> payloads) noexcept;
  bool send_peer(const dmux::net::Endpoint& to, std::span<const std::byte> payload) noexcept;
  std::size_t send_peers(std::span<const std::byte> payload) noexcept;
  [[nodiscard]] std::string status() const;
  [[nodiscard]] std::vector<dmux::sdk::MetricSample> metric_samples() const;
  [[nodiscard]] std::size_t registrations_up() const noexcept;

  // Set by the program before run().
  std::function<void(const Packet&)> on_packet;
  std::function<void(const PeerMessage&)> on_peer_message;
  std::function<void(const PeerState&)> on_peer_change;
  std::function<std::string()> status_extra;
  std::deque<AppCounter> app_counters;  // stable addresses for Counter handles
  struct Periodic {
    std::chrono::milliseconds period;
    std::function<void()> fn;
    std::unique_ptr<dmux::evloop::Timer> timer;
  };
  std::vector<Periodic> periodic;

  const dmux::util::Clock& clock;
  RouterOptions options;
  dmux::net::Endpoint listen;
  std::vector<dmux::net::Endpoint> gateways;
  dmux::agent::Credentials credentials;
  double start_time;
  dmux::evloop::EventLoop loop;
  dmux::net::UniqueFd socket;
  dmux::agent::Ingress ingress;
  std::vector<std::unique_ptr<GatewayLink>> links;  // one per gateway, as registrations
  std::vector<std::unique_ptr<dmux::agent::RegistrationClient>> registrations;
  dmux::agent::ControlReplyCounters control_replies;
  std::optional<dmux::sdk::PeerChannel> peers;
  RouterCounters counters;

 private:
  void on_readable() noexcept;
  void on_datagram(std::span<std::byte> datagram, const dmux::net::Endpoint& from) noexcept;
  void on_tunnel(std::span<std::byte> datagram, const dmux::net::Endpoint& from) noexcept;
  void on_peer_datagram(std::span<const std::byte> datagram) noexcept;
  void on_tick() noexcept;
  void heartbeat() noexcept;
  void shutdown(const char* why) noexcept;
  // The 20-byte RETURN header to `to`, with its return token.
  std::array<std::byte, 20> return_header(const Client& to) const noexcept;

  std::vector<std::byte> rx_;      // one received datagram
  std::vector<std::byte> tx_;      // one peer message
  dmux::net::UdpSendBatch batch_;  // send_batch's RETURNs (GSO where the kernel offers it)
  dmux::agent::Reply reply_;       // a TOKEN_OFFER
  dmux::evloop::Timer tick_;
  std::unique_ptr<dmux::evloop::IoWatcher> watcher_;
  std::unique_ptr<dmux::app::StopSignals> signals_;
  std::unique_ptr<dmux::control::ControlServer> control_;
  std::unique_ptr<dmux::sdk::MetricsExporter> metrics_;
  MonoTimePoint next_heartbeat_{};
  MonoTimePoint next_metrics_{};
};

}  // namespace v1
}  // namespace ipdmux::sdk
