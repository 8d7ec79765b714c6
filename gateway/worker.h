// One data-plane worker: its own thread, event loop, SO_REUSEPORT sockets on every listen
// endpoint, and an egress socket. Receives DATA datagrams in batches (recvmmsg), re-tunnels them
// (sendmmsg) and counts everything.
//
// Threading: constructed and destroyed on the control thread; everything else runs on the
// worker's own thread between start() and stop(). All buffers are allocated in the constructor;
// the receive/send path never allocates, locks or throws.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "common/evloop/event_loop.h"
#include "common/net/endpoint.h"
#include "common/net/unique_fd.h"
#include "common/wire/shim.h"
#include "gateway/counters.h"
#include "gateway/egress_batch.h"
#include "gateway/table_publisher.h"

namespace dmux::gateway {

struct WorkerConfig {
  std::vector<net::Endpoint> listen;      // DATA is accepted on each (anycast and unicast)
  net::Endpoint tunnel_source;            // bind address of the egress socket (port 0 = any)
  std::uint32_t gateway_id = 0;           // written into every TUNNEL header
  unsigned batch_size = 64;               // datagrams per recvmmsg/sendmmsg
  std::size_t max_datagram_bytes = 1500;  // larger DATA datagrams are dropped as oversize
  int socket_buffer_bytes = 4 << 20;      // SO_RCVBUF/SO_SNDBUF
  bool use_gso = true;                    // coalesce sends to one router with UDP_SEGMENT
};

class Worker {
 public:
  Worker(const WorkerConfig& config, const TablePublisher& tables);
  ~Worker();
  Worker(const Worker&) = delete;
  Worker& operator=(const Worker&) = delete;

  void start();
  void stop();  // idempotent; joins the thread

  [[nodiscard]] const DataPathCounters& counters() const noexcept { return counters_; }
  // Bumped by the worker's own loop every kHeartbeatPeriod: proof of progress for health checks.
  [[nodiscard]] std::uint64_t heartbeat() const noexcept { return heartbeat_.get(); }
  static constexpr std::chrono::milliseconds kHeartbeatPeriod{25};

 private:
  void on_readable(std::size_t socket_index) noexcept;
  void note_socket_overflow(std::size_t socket_index, const msghdr& last) noexcept;
  void refresh_table() noexcept;
  void handle_batch(unsigned received) noexcept;

  WorkerConfig config_;
  const TablePublisher& tables_;
  std::shared_ptr<const ForwardingTable> table_;
  std::uint64_t table_generation_ = 0;

  evloop::EventLoop loop_;
  std::vector<net::UniqueFd> listen_fds_;
  net::UniqueFd egress_fd_;
  std::vector<std::unique_ptr<evloop::IoWatcher>> watchers_;
  std::unique_ptr<evloop::Timer> heartbeat_timer_;
  SingleWriterCounter heartbeat_;
  std::thread thread_;

  // Receive side: one buffer, address and iovec per batch slot.
  std::vector<std::byte> rx_storage_;
  std::vector<iovec> rx_iov_;
  std::vector<sockaddr_in> rx_addr_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<std::byte> rx_control_;         // per slot: room for the SO_RXQ_OVFL cmsg
  std::vector<std::uint32_t> overflow_seen_;  // per listen socket: kernel drop count so far
  // Send side: a TUNNEL header per slot; payloads stay in the receive buffers (zero copy).
  std::vector<std::array<std::byte, wire::kTunnelHeaderLen>> tx_headers_;
  EgressBatch egress_;

  DataPathCounters counters_;
};

}  // namespace dmux::gateway
