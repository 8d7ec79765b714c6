// dmux-client assembled: the tunnel socket, the TUN device and its routes, NFQUEUE, our iptables
// chain, the data path, the return tokens, the address offer, the control socket and signals. One
// thread, the event loop's: capture, tunnel and injection are each one system call per batch or
// packet.
//
// Start-up order (each step undone if a later one fails, and at exit in reverse): UDP socket, TUN
// device, IPv6 routes into it, NFQUEUE binding, iptables rules, control socket; then the token
// requests go out (and, once the ipv6 token is known, the solicitation).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client-capture/address_offer.h"
#include "client-capture/capture_path.h"
#include "client-capture/config.h"
#include "client-capture/firewall.h"
#include "client-capture/metrics_exporter.h"
#include "client-capture/nfqueue.h"
#include "client-capture/return_tokens.h"
#include "client-capture/tcp_segmenter.h"
#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"
#include "common/net/tun_device.h"
#include "common/net/unique_fd.h"

namespace dmux::client {

class ClientApp {
 public:
  // Throws std::exception on any start-up failure, with nothing left behind.
  explicit ClientApp(ClientConfig config);
  ~ClientApp();
  ClientApp(const ClientApp&) = delete;
  ClientApp& operator=(const ClientApp&) = delete;

  // Serves until SIGTERM or SIGINT.
  void run();

 private:
  static constexpr std::size_t kBatch = NfQueue::kBatch;

  // Nonces of TOKEN_REQUESTs, from getrandom.
  class RandomNonces : public NonceSource {
   public:
    std::uint64_t next_nonce() noexcept override;
  };

  void on_queue_readable() noexcept;
  void on_socket_readable() noexcept;
  void on_return(std::span<const std::byte> datagram, const sockaddr_in& from,
                 Clock::time_point now) noexcept;
  void note_old_version(const sockaddr_in& from, Clock::time_point now) noexcept;
  void on_advert(const Offer& offer, Clock::time_point now) noexcept;
  void on_token_offer(const ReturnResult& r, Clock::time_point now) noexcept;
  void on_timer() noexcept;
  void send_control(const wire::ShimHeader& h, std::span<const std::byte> payload) noexcept;
  void send_token_request(const TokenRequest& r) noexcept;
  void send_solicitation() noexcept;
  void warn_unanswered(const TokenRequest& r) const noexcept;
  void warn_no_address(AddressOffer::Warning w, Clock::time_point now) const noexcept;
  void refresh_host_addresses() noexcept;
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
  NfQueue queue_;
  std::unique_ptr<FirewallRules> firewall_;  // after queue_: removed before the queues unbind
  // Capture batch: DATA headers (one per captured packet, shared by its segments), segment
  // headers, and the mmsghdr/iovec arrays for sendmmsg (flushed when full).
  static constexpr std::size_t kMaxSends = 256;
  void queue_send(std::span<const std::byte> data_header, std::span<const std::byte> headers,
                  std::span<const std::byte> payload) noexcept;
  void flush_sends() noexcept;
  std::array<QueuedPacket, kBatch> packets_{};
  std::array<std::array<std::byte, wire::kDataHeaderLen>, kBatch> headers_{};
  std::vector<std::byte> segment_headers_;  // kMaxSends * kMaxTcp6Headers
  std::array<Segment, kMaxSends> segments_{};
  std::array<iovec, 3 * kMaxSends> send_iov_{};
  std::array<mmsghdr, kMaxSends> send_msgs_{};
  std::array<std::size_t, kMaxSends> send_sizes_{};
  std::size_t send_count_ = 0;
  std::vector<std::uint32_t> max_id_;  // per selector: highest packet id seen in this batch
  std::vector<bool> seen_;
  std::vector<int> verdicts_;  // per selector: NF_DROP, or NF_ACCEPT while it has no token
  // Return batch.
  std::vector<std::byte> rx_;
  std::array<iovec, kBatch> rx_iov_{};
  std::array<mmsghdr, kBatch> rx_msgs_{};
  std::array<sockaddr_in, kBatch> rx_from_{};
  // RETURNs of another protocol version (docs/protocol.md 2.1): logged at most once a minute.
  std::uint64_t old_versions_unlogged_ = 0;
  std::optional<Clock::time_point> old_version_logged_;
  evloop::Timer timer_;       // token requests and solicitations, at their soft state's deadline
  evloop::Timer host_timer_;  // re-reads the host's IPv4 addresses (generic selectors)
  std::unique_ptr<evloop::IoWatcher> queue_watcher_;
  std::unique_ptr<evloop::IoWatcher> socket_watcher_;
  std::vector<std::unique_ptr<evloop::SignalWatcher>> signals_;
  std::unique_ptr<control::ControlServer> control_;
  std::unique_ptr<MetricsExporter> metrics_;
  evloop::Timer metrics_timer_;  // hands the exporter a copy of the counters every second
  void publish_metrics() noexcept;
};

}  // namespace dmux::client
