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
    : config_(config), tables_(tables), egress_(config.batch_size, config.use_gso) {
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
  for (unsigned i = 0; i < n; ++i) {
    rx_iov_[i] = iovec{rx_storage_.data() + i * slot, slot};
    rx_msgs_[i].msg_hdr.msg_iov = &rx_iov_[i];
    rx_msgs_[i].msg_hdr.msg_iovlen = 1;
    rx_msgs_[i].msg_hdr.msg_name = &rx_addr_[i];
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
      forward = process_datagram(datagram, client, ctx, tx_headers_[egress_.queued()], action, drop, proto);
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
