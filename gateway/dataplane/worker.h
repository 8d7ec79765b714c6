// One data-plane worker: its own thread, event loop, SO_REUSEPORT sockets on every listen
// endpoint, and an egress socket. Receives DATA datagrams in batches (recvmmsg), turns each into a
// sealed TUNNEL in its own receive slot (zero copy: the header is written in front of the payload),
// sends them (sendmmsg, one or two iovecs a datagram) and counts everything.
//
// With use_gro, the DATA sockets have UDP_GRO on: the kernel hands over a run of one client's
// datagrams in one buffer (when the receiving interface does GRO). Each DATA still needs its own
// TUNNEL header in front of its payload, so each is processed where it lies: its TUNNEL header is
// built over the end of the datagram before it (the receiver keeps headroom in front of the
// first), sealed, copied out to a header array, and the bytes it covered are put back; the
// TUNNEL leaves as two iovecs, its header and the payload in the receive buffer. The payload is
// never copied in user space.
//
// Threading: constructed and destroyed on the control thread; everything else runs on the
// worker's own thread between start() and stop(). All buffers are allocated in the constructor;
// the receive/send path never allocates, locks or throws. The TunnelCounter is shared with the
// other workers (one atomic add per receive batch).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <thread>
#include <vector>

#include "common/evloop/event_loop.h"
#include "common/net/endpoint.h"
#include "common/net/udp_gro.h"
#include "common/net/unique_fd.h"
#include "common/wire/shim.h"
#include "gateway/dataplane/counters.h"
#include "gateway/dataplane/egress_batch.h"
#include "gateway/dataplane/packet_processor.h"
#include "gateway/dataplane/table_publisher.h"
#include "gateway/dataplane/tunnel_counter.h"

namespace dmux::gateway {

struct WorkerConfig {
  std::vector<net::Endpoint> listen;      // DATA is accepted on each (anycast and unicast)
  net::Endpoint tunnel_source;            // bind address of the egress socket (port 0 = any)
  wire::GatewayId gateway_id;             // written into every TUNNEL header
  unsigned batch_size = 64;               // datagrams per recvmmsg/sendmmsg
  std::size_t max_datagram_bytes = 1500;  // larger DATA datagrams are dropped as oversize
  int socket_buffer_bytes = 4 << 20;      // SO_RCVBUF/SO_SNDBUF
  bool use_gso = true;                    // coalesce sends to one router with UDP_SEGMENT
  bool use_gro = true;                    // UDP_GRO on the DATA sockets (off if the kernel refuses)
};

class Worker {
 public:
  // `tables` and `counter` outlive the worker.
  Worker(const WorkerConfig& config, const TablePublisher& tables, TunnelCounter& counter);
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
  // Until the socket is empty, or enough for one wake-up: one datagram a slot (no GRO) ...
  void receive_batches(int fd) noexcept;
  // ... or coalesced runs (GRO), each receive's datagrams processed where they lie.
  void receive_coalesced(std::size_t socket_index) noexcept;
  void handle_coalesced(const net::UdpBatchReceiver& rx, std::size_t datagrams) noexcept;
  // Counts what the kernel dropped at the socket (receive buffer full) since the last call.
  void poll_socket_drops(std::size_t socket_index) noexcept;
  void refresh_table() noexcept;
  void handle_batch(unsigned received) noexcept;
  // One DATA datagram of `len` bytes behind kTunnelHeadroom bytes of `slot` it may grow into:
  // counted, and turned into a sealed TUNNEL inside `slot` if true (then `action` says where).
  bool process(std::span<std::byte> slot, std::size_t len, bool truncated,
               const net::Endpoint& client, const ProcessorContext& ctx, std::uint64_t counter,
               ForwardAction& action) noexcept;
  // Records the sender of `datagram`, dropped as unsupported_version.
  void note_old_version(std::span<const std::byte> datagram, const net::Endpoint& from) noexcept;
  // Slot i: kTunnelHeadroom free bytes, then the datagram recvmmsg put there.
  [[nodiscard]] std::span<std::byte> slot(std::size_t i) noexcept {
    return std::span(rx_storage_).subspan(i * slot_bytes_, slot_bytes_);
  }

  WorkerConfig config_;
  const TablePublisher& tables_;
  TunnelCounter& tunnel_counter_;
  std::shared_ptr<const ForwardingTable> table_;
  std::uint64_t table_generation_ = 0;

  evloop::EventLoop loop_;
  std::vector<net::UniqueFd> listen_fds_;
  net::UniqueFd egress_fd_;
  std::vector<std::unique_ptr<evloop::IoWatcher>> watchers_;
  std::unique_ptr<evloop::Timer> heartbeat_timer_;
  SingleWriterCounter heartbeat_;
  std::thread thread_;

  // Receive side: one buffer, address and iovec per batch slot. The iovec starts kTunnelHeadroom
  // bytes into the slot; the TUNNEL is built in place and sent from there.
  std::size_t slot_bytes_ = 0;
  std::vector<std::byte> rx_storage_;
  std::vector<iovec> rx_iov_;
  std::vector<sockaddr_in> rx_addr_;
  std::vector<mmsghdr> rx_msgs_;
  std::vector<std::uint32_t> overflow_seen_;  // per listen socket: kernel drop count so far
  // With GRO: per listen socket, the receiver of coalesced runs, and its truncated-buffer count
  // already counted as oversize drops. Empty without GRO.
  std::vector<std::unique_ptr<net::UdpBatchReceiver>> gro_rx_;
  std::vector<std::uint64_t> gro_truncated_seen_;
  // With GRO: the TUNNEL header of each datagram of one receive, sent before its payload.
  std::vector<std::array<std::byte, wire::kTunnelHeaderLen>> tx_headers_;
  EgressBatch egress_;

  DataPathCounters counters_;
};

}  // namespace dmux::gateway
