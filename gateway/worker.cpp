#include "gateway/worker.h"

#include <cerrno>
#include <cstring>

#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "gateway/packet_processor.h"

namespace dmux::gateway {
namespace {
constexpr std::size_t kRxControlBytes = CMSG_SPACE(sizeof(std::uint32_t));
// Batches drained per wake-up before yielding back to the loop (keeps stop() responsive).
constexpr int kMaxBatchesPerWakeup = 16;
}  // namespace

Worker::Worker(const WorkerConfig& config, const TablePublisher& tables)
    : config_(config), tables_(tables), egress_(config.batch_size, config.use_gso) {
  const net::UdpSocketOptions opts{.reuse_port = true,
                                   .nonblocking = true,
                                   .rcvbuf_bytes = config_.socket_buffer_bytes,
                                   .sndbuf_bytes = config_.socket_buffer_bytes};
  for (const auto& ep : config_.listen) {
    listen_fds_.push_back(net::open_udp_socket(ep, opts));
    // Ask the kernel to report, with each datagram, how many it dropped for a full buffer.
    const int on = 1;
    ::setsockopt(listen_fds_.back().get(), SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof on);
  }
  overflow_seen_.assign(listen_fds_.size(), 0);
  egress_fd_ =
      net::open_udp_socket(config_.tunnel_source, {.reuse_port = false,
                                                   .nonblocking = true,
                                                   .rcvbuf_bytes = 0,
                                                   .sndbuf_bytes = config_.socket_buffer_bytes});

  const unsigned n = config_.batch_size;
  const std::size_t slot = config_.max_datagram_bytes + 1;  // +1 so oversize shows as MSG_TRUNC
  rx_storage_.resize(slot * n);
  rx_iov_.resize(n);
  rx_addr_.resize(n);
  rx_msgs_.resize(n);
  rx_control_.resize(kRxControlBytes * n);
  tx_headers_.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    rx_iov_[i] = iovec{rx_storage_.data() + i * slot, slot};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_addr_[i];
  }

  for (std::size_t k = 0; k < listen_fds_.size(); ++k) {
    watchers_.push_back(std::make_unique<evloop::IoWatcher>(loop_, listen_fds_[k].get(),
                                                            [this, k] { on_readable(k); }));
  }
  heartbeat_timer_ = std::make_unique<evloop::Timer>(loop_, [this] { heartbeat_.add(); });
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

void Worker::note_socket_overflow(std::size_t socket_index, const msghdr& last) noexcept {
  for (cmsghdr* c = CMSG_FIRSTHDR(&last); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&last), c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SO_RXQ_OVFL) continue;
    std::uint32_t total = 0;
    std::memcpy(&total, CMSG_DATA(c), sizeof total);
    const std::uint32_t delta = total - overflow_seen_[socket_index];  // wraps correctly
    overflow_seen_[socket_index] = total;
    counters_.socket_overflows.add(delta);
  }
}

void Worker::on_readable(std::size_t socket_index) noexcept {
  const int fd = listen_fds_[socket_index].get();
  for (int round = 0; round < kMaxBatchesPerWakeup; ++round) {
    refresh_table();
    for (std::size_t i = 0; i < rx_msgs_.size(); ++i) {
      msghdr& h = rx_msgs_[i].msg_hdr;
      h.msg_namelen = sizeof(sockaddr_in);
      h.msg_flags = 0;
      h.msg_control = &rx_control_[i * kRxControlBytes];
      h.msg_controllen = kRxControlBytes;
    }
    const int got = ::recvmmsg(fd, rx_msgs_.data(), config_.batch_size, MSG_DONTWAIT, nullptr);
    if (got <= 0) return;  // EAGAIN, or an error the next wake-up will see again
    counters_.rx_batches.add();
    // The count is cumulative per socket, so the batch's last datagram carries the newest.
    note_socket_overflow(socket_index, rx_msgs_[static_cast<std::size_t>(got) - 1].msg_hdr);
    handle_batch(static_cast<unsigned>(got));
    if (static_cast<unsigned>(got) < config_.batch_size) return;
  }
}

void Worker::handle_batch(unsigned received) noexcept {
  const ProcessorContext ctx{table_.get(), config_.gateway_id};
  for (unsigned i = 0; i < received; ++i) {
    const auto& hdr = rx_msgs_[i].msg_hdr;
    const std::size_t len = rx_msgs_[i].msg_len;
    const auto client = net::Endpoint::from_sockaddr(rx_addr_[i]);
    const std::span<const std::byte> datagram(static_cast<const std::byte*>(rx_iov_[i].iov_base),
                                              std::min(len, rx_iov_[i].iov_len));
    std::uint16_t proto = 0;
    ForwardAction action;
    DropReason drop = DropReason::kMalformed;
    bool forward = false;
    if ((hdr.msg_flags & MSG_TRUNC) != 0 || len > config_.max_datagram_bytes) {
      drop = DropReason::kOversize;
    } else {
      forward = process_datagram(datagram, client, ctx, tx_headers_[egress_.queued()], action, drop,
                                 proto);
    }
    const std::size_t slot = wire::protocol_slot(proto);
    counters_.rx_packets[slot].add();
    counters_.rx_bytes[slot].add(len);
    if (!forward) {
      counters_.drops[static_cast<std::size_t>(drop)].add();
      continue;
    }
    const auto& header = tx_headers_[egress_.queued()];
    egress_.queue(OutPacket{std::span(header.data(), action.header_len), action.payload,
                            action.router, action.proto_id});
  }
  egress_.flush(egress_fd_.get(), counters_);
}

}  // namespace dmux::gateway
