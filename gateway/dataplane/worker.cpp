#include "gateway/dataplane/worker.h"

#include <linux/sock_diag.h>

#include <algorithm>
#include <cstring>

#include "common/net/udp_socket.h"
#include "common/wire/byte_reader.h"

namespace dmux::gateway {
namespace {
// Batches drained per wake-up before yielding back to the loop (keeps stop() responsive).
constexpr int kMaxBatchesPerWakeup = 16;
// With GRO: coalesced buffers per recvmmsg. A buffer holds up to 64 datagrams (the kernel's
// UDP_GRO_CNT_MAX) in at most 64 KiB. A receive's datagrams leave in one flush (they are sent from
// the buffers), so there are as many buffers as a batch of single datagrams needs to fill one
// sendmmsg well: 2 MiB a socket.
constexpr std::size_t kGroBuffers = 32;
constexpr std::size_t kGroBufferBytes = 65536;
constexpr std::size_t kGroMaxSegments = 64;
constexpr std::size_t kGroMaxDatagrams = kGroBuffers * kGroMaxSegments;
// GRO receives per wake-up: the same 128 buffers at most as 16 rounds of 8 did.
constexpr int kMaxGroReceivesPerWakeup = 4;

// One receive's datagrams leave in one flush: a batch of recvmmsg slots, or a GRO receive.
unsigned egress_capacity(const WorkerConfig& c) noexcept {
  return c.use_gro ? std::max<unsigned>(c.batch_size, kGroMaxDatagrams) : c.batch_size;
}
}  // namespace

Worker::Worker(const WorkerConfig& config, const TablePublisher& tables, TunnelCounter& counter)
    : config_(config),
      tables_(tables),
      tunnel_counter_(counter),
      egress_(egress_capacity(config), config.use_gso) {
  const net::UdpSocketOptions opts{.reuse_port = true,
                                   .nonblocking = true,
                                   .rcvbuf_bytes = config_.socket_buffer_bytes,
                                   .sndbuf_bytes = config_.socket_buffer_bytes};
  for (const auto& ep : config_.listen) listen_fds_.push_back(net::open_udp_socket(ep, opts));
  overflow_seen_.assign(listen_fds_.size(), 0);
  egress_fd_ =
      net::open_udp_socket(config_.tunnel_source, {.reuse_port = false,
                                                   .nonblocking = true,
                                                   .rcvbuf_bytes = 0,
                                                   .sndbuf_bytes = config_.socket_buffer_bytes});

  const unsigned n = config_.batch_size;
  const std::size_t room = config_.max_datagram_bytes + 1;  // +1 so oversize shows as MSG_TRUNC
  slot_bytes_ = kTunnelHeadroom + room;
  rx_storage_.resize(slot_bytes_ * n);
  rx_iov_.resize(n);
  rx_addr_.resize(n);
  rx_msgs_.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    rx_iov_[i] = iovec{slot(i).subspan(kTunnelHeadroom).data(), room};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_addr_[i];
  }

  if (config_.use_gro) {
    const net::UdpReceiveConfig gro{.batch = kGroBuffers,
                                    .buffer_bytes = kGroBufferBytes,
                                    .max_datagrams = kGroMaxDatagrams,
                                    .gro = true,
                                    .headroom = kTunnelHeadroom};
    for (const auto& fd : listen_fds_) {
      gro_rx_.push_back(std::make_unique<net::UdpBatchReceiver>(fd.get(), gro));
      if (!gro_rx_.back()->gro_enabled()) {  // an old kernel: datagrams one by one
        gro_rx_.clear();
        break;
      }
    }
    gro_truncated_seen_.assign(gro_rx_.size(), 0);
    if (!gro_rx_.empty()) tx_headers_.resize(kGroMaxDatagrams);
  }

  for (std::size_t k = 0; k < listen_fds_.size(); ++k) {
    watchers_.push_back(std::make_unique<evloop::IoWatcher>(loop_, listen_fds_[k].get(),
                                                            [this, k] { on_readable(k); }));
  }
  heartbeat_timer_ = std::make_unique<evloop::Timer>(loop_, [this] {
    heartbeat_.add();
    for (std::size_t k = 0; k < listen_fds_.size(); ++k) poll_socket_drops(k);
  });
  heartbeat_timer_->start_periodic(kHeartbeatPeriod);
}

Worker::~Worker() { stop(); }

void Worker::start() {
  thread_ = std::thread([this] {
    refresh_table();
    loop_.run();
  });
}

void Worker::stop() {
  loop_.stop();
  if (thread_.joinable()) thread_.join();
}

void Worker::refresh_table() noexcept {
  const auto gen = tables_.generation();
  if (gen == table_generation_) return;
  table_ = tables_.snapshot();  // takes the publisher's mutex once per update, not per packet
  table_generation_ = gen;
  counters_.table_updates.add();
}

void Worker::poll_socket_drops(std::size_t socket_index) noexcept {
  // sk_drops, the count SO_RXQ_OVFL would attach to every datagram: asked for on every heartbeat
  // (25 ms) instead, which spares the kernel a control message per datagram and the data path a
  // getsockopt per wake-up (a packet's next hop waits for it when every process shares one CPU).
  std::uint32_t meminfo[SK_MEMINFO_VARS] = {};
  socklen_t len = sizeof meminfo;
  if (::getsockopt(listen_fds_[socket_index].get(), SOL_SOCKET, SO_MEMINFO, meminfo, &len) != 0 ||
      len <= SK_MEMINFO_DROPS * sizeof(std::uint32_t)) {
    return;
  }
  const std::uint32_t total = meminfo[SK_MEMINFO_DROPS];
  const std::uint32_t delta = total - overflow_seen_[socket_index];  // wraps correctly
  overflow_seen_[socket_index] = total;
  counters_.socket_overflows.add(delta);
}

void Worker::on_readable(std::size_t socket_index) noexcept {
  if (gro_rx_.empty()) {
    receive_batches(listen_fds_[socket_index].get());
  } else {
    receive_coalesced(socket_index);
  }
}

void Worker::receive_batches(int fd) noexcept {
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    refresh_table();
    for (auto& m : rx_msgs_) {
      m.msg_hdr.msg_namelen = sizeof(sockaddr_in);
      m.msg_hdr.msg_flags = 0;
    }
    const int got = ::recvmmsg(fd, rx_msgs_.data(), config_.batch_size, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN, or an error the next wake-up will see again
    counters_.rx_batches.add();
    handle_batch(static_cast<unsigned>(got));
    if (static_cast<unsigned>(got) < config_.batch_size) return;
  }
}

void Worker::receive_coalesced(std::size_t socket_index) noexcept {
  net::UdpBatchReceiver& rx = *gro_rx_[socket_index];
  for (int round = 0; round < kMaxGroReceivesPerWakeup; ++round) {
    refresh_table();
    const std::uint64_t buffers_before = rx.counters().buffers;
    const std::size_t got = rx.receive();
    // A buffer the kernel truncated held at least one datagram too large for it: oversize.
    const std::uint64_t truncated = rx.counters().truncated;
    counters_.drops[static_cast<std::size_t>(DropReason::kOversize)].add(
        truncated - gro_truncated_seen_[socket_index]);
    gro_truncated_seen_[socket_index] = truncated;
    if (rx.counters().buffers == buffers_before) break;  // EAGAIN, or an error seen next time
    counters_.rx_batches.add();
    handle_coalesced(rx, got);  // before the next receive() reuses the buffers
    if (rx.drained()) break;    // a partial batch: the socket is empty
  }
}

// Each datagram in place: its TUNNEL header grows over the kTunnelHeadroom bytes in front of it
// (the receiver's headroom, or the end of the datagram before it, saved and put back), is sealed,
// and is copied out to tx_headers_; the payload is sent from where it lies.
void Worker::handle_coalesced(const net::UdpBatchReceiver& rx, std::size_t datagrams) noexcept {
  const ProcessorContext ctx{table_.get(), config_.gateway_id};
  std::uint64_t counter = tunnel_counter_.reserve(datagrams);  // one atomic add per receive
  std::array<std::byte, kTunnelHeadroom> saved;
  for (std::size_t i = 0; i < datagrams; ++i) {
    const std::span<std::byte> datagram = rx.datagram(i);
    std::byte* const front = datagram.data() - kTunnelHeadroom;
    std::memcpy(saved.data(), front, saved.size());
    ForwardAction action;
    if (process(std::span(front, kTunnelHeadroom + datagram.size()), datagram.size(), false,
                rx.from(i), ctx, counter, action)) {
      auto& header = tx_headers_[i];
      std::memcpy(header.data(), action.tunnel.data(), header.size());
      egress_.queue(
          OutPacket{header, action.tunnel.subspan(header.size()), action.router, action.proto_id});
      ++counter;
    }
    std::memcpy(front, saved.data(), saved.size());
  }
  egress_.flush(egress_fd_.get(), counters_);
}

void Worker::note_old_version(std::span<const std::byte> datagram,
                              const net::Endpoint& from) noexcept {
  wire::ByteReader r(datagram);
  std::uint8_t version = 0;
  if (!r.read_u8(version)) return;
  counters_.old_version_sender.set({from, version});
}

bool Worker::process(std::span<std::byte> slot, std::size_t len, bool truncated,
                     const net::Endpoint& client, const ProcessorContext& ctx,
                     std::uint64_t counter, ForwardAction& action) noexcept {
  wire::ProtoId proto;
  DropReason drop = DropReason::kMalformed;
  bool forward = false;
  if (truncated || len > config_.max_datagram_bytes) {
    drop = DropReason::kOversize;
  } else {
    forward = process_datagram(slot, len, client, ctx, counter, action, drop, proto);
  }
  const std::size_t proto_slot = wire::protocol_slot(proto);
  counters_.rx_packets[proto_slot].add();
  counters_.rx_bytes[proto_slot].add(len);
  if (!forward) {
    counters_.drops[static_cast<std::size_t>(drop)].add();
    if (drop == DropReason::kUnsupportedVersion) {
      note_old_version(slot.subspan(kTunnelHeadroom, len), client);
    }
  }
  return forward;
}

void Worker::handle_batch(unsigned received) noexcept {
  const ProcessorContext ctx{table_.get(), config_.gateway_id};
  std::uint64_t counter = tunnel_counter_.reserve(received);  // one atomic add per batch
  for (unsigned i = 0; i < received; ++i) {
    ForwardAction action;
    if (!process(slot(i), rx_msgs_[i].msg_len, (rx_msgs_[i].msg_hdr.msg_flags & MSG_TRUNC) != 0,
                 net::Endpoint::from_sockaddr(rx_addr_[i]), ctx, counter, action)) {
      continue;
    }
    ++counter;
    egress_.queue(OutPacket{action.tunnel, {}, action.router, action.proto_id});
  }
  egress_.flush(egress_fd_.get(), counters_);
}

}  // namespace dmux::gateway
