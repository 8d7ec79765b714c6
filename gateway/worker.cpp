#include "gateway/worker.h"

#include <cerrno>

#include "common/net/udp_socket.h"
#include "common/util/log.h"
#include "gateway/packet_processor.h"

namespace dmux::gateway {
namespace {
// Batches drained per wake-up before yielding back to the loop (keeps stop() responsive).
constexpr int kMaxBatchesPerWakeup = 16;
}  // namespace

Worker::Worker(const WorkerConfig& config, const TablePublisher& tables)
    : config_(config), tables_(tables) {
  const net::UdpSocketOptions opts{.reuse_port = true,
                                   .nonblocking = true,
                                   .rcvbuf_bytes = config_.socket_buffer_bytes,
                                   .sndbuf_bytes = config_.socket_buffer_bytes};
  for (const auto& ep : config_.listen) listen_fds_.push_back(net::open_udp_socket(ep, opts));
  egress_fd_ = net::open_udp_socket(config_.tunnel_source,
                                    {.reuse_port = false,
                                     .nonblocking = true,
                                     .rcvbuf_bytes = 0,
                                     .sndbuf_bytes = config_.socket_buffer_bytes});

  const unsigned n = config_.batch_size;
  const std::size_t slot = config_.max_datagram_bytes + 1;  // +1 so oversize shows as MSG_TRUNC
  rx_storage_.resize(slot * n);
  rx_iov_.resize(n);
  rx_addr_.resize(n);
  rx_msgs_.resize(n);
  tx_headers_.resize(n);
  tx_iov_.resize(n);
  tx_addr_.resize(n);
  tx_msgs_.resize(n);
  tx_proto_.resize(n);
  for (unsigned i = 0; i < n; ++i) {
    rx_iov_[i] = iovec{rx_storage_.data() + i * slot, slot};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_addr_[i];
    tx_msgs_[i].msg_hdr.msg_iov = tx_iov_[i].data();
    tx_msgs_[i].msg_hdr.msg_iovlen = 2;
    tx_msgs_[i].msg_hdr.msg_name = &tx_addr_[i];
    tx_msgs_[i].msg_hdr.msg_namelen = sizeof(sockaddr_in);
  }

  for (const auto& fd : listen_fds_) {
    const int raw = fd.get();
    watchers_.push_back(
        std::make_unique<evloop::IoWatcher>(loop_, raw, [this, raw] { on_readable(raw); }));
  }
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

void Worker::on_readable(int fd) noexcept {
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

void Worker::handle_batch(unsigned received) noexcept {
  const ProcessorContext ctx{table_.get(), config_.gateway_id};
  unsigned queued = 0;
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
      forward = process_datagram(datagram, client, ctx, tx_headers_[queued], action, drop, proto);
    }
    const std::size_t slot = wire::protocol_slot(proto);
    counters_.rx_packets[slot].add();
    counters_.rx_bytes[slot].add(len);
    if (!forward) {
      counters_.drops[static_cast<std::size_t>(drop)].add();
      continue;
    }
    tx_iov_[queued][0] = iovec{tx_headers_[queued].data(), action.header_len};
    tx_iov_[queued][1] = iovec{const_cast<std::byte*>(action.payload.data()), action.payload.size()};
    tx_addr_[queued] = action.router.to_sockaddr();
    tx_proto_[queued] = action.proto_id;
    ++queued;
  }
  flush(queued);
}

void Worker::flush(unsigned queued) noexcept {
  unsigned done = 0;
  while (done < queued) {
    const int sent = ::sendmmsg(egress_fd_.get(), tx_msgs_.data() + done, queued - done,
                                MSG_DONTWAIT);
    if (sent < 0) {
      if (errno == EINTR) continue;
      // The first pending datagram failed (EAGAIN: socket buffer full; or a per-destination
      // error). Never block: count it and move on to the rest.
      counters_.drops[static_cast<std::size_t>(DropReason::kSendFailed)].add();
      ++done;
      continue;
    }
    for (int k = 0; k < sent; ++k) {
      const unsigned i = done + static_cast<unsigned>(k);
      const std::size_t slot = wire::protocol_slot(tx_proto_[i]);
      counters_.tx_packets[slot].add();
      counters_.tx_bytes[slot].add(tx_iov_[i][0].iov_len + tx_iov_[i][1].iov_len);
    }
    done += static_cast<unsigned>(sent);
  }
}

}  // namespace dmux::gateway
