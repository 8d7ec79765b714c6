#include "client-capture/nfqueue.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
// clang-format off: libnetfilter_queue's header needs the types above first
#include <libmnl/libmnl.h>
#include <libnetfilter_queue/libnetfilter_queue.h>
#include <linux/netfilter/nfnetlink_queue.h>
// clang-format on

#include <cerrno>
#include <string>
#include <system_error>

namespace dmux::client {
namespace {

// One whole packet plus attributes; a multiple of the page size keeps every buffer (and so every
// netlink header in it) aligned.
constexpr std::size_t kRxBufferBytes = 65536 + 4096;
constexpr std::size_t kTxBufferBytes = 64 * 1024;
constexpr std::size_t kVerdictMsgBytes = 64;  // NFQNL_MSG_VERDICT_BATCH with one verdict attribute

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

}  // namespace

NfQueue::NfQueue(std::uint16_t first_queue, std::uint16_t count, std::uint32_t max_len,
                 int rcvbuf_bytes)
    : rx_(kBatch * kRxBufferBytes), msgs_(kBatch), iovs_(kBatch), tx_(kTxBufferBytes) {
  nl_ = mnl_socket_open(NETLINK_NETFILTER);
  if (nl_ == nullptr) fail("netlink socket (NETLINK_NETFILTER)");
  try {
    if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) fail("netlink bind");
    port_id_ = mnl_socket_get_portid(nl_);
    const int fd = mnl_socket_get_fd(nl_);
    // A large buffer absorbs bursts; without it the kernel reports ENOBUFS and (fail-open aside)
    // drops. SO_RCVBUFFORCE needs CAP_NET_ADMIN, which we have; fall back quietly otherwise.
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf_bytes, sizeof rcvbuf_bytes) != 0)
      (void)::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof rcvbuf_bytes);
    const int one = 1;
    (void)::setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof one);
    for (std::uint16_t q = 0; q < count; ++q) configure(static_cast<std::uint16_t>(first_queue + q), max_len);
    if (::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) fail("O_NONBLOCK");
  } catch (...) {
    mnl_socket_close(nl_);
    throw;
  }
  for (std::size_t i = 0; i < kBatch; ++i) {
    iovs_[i] = iovec{rx_.data() + i * kRxBufferBytes, kRxBufferBytes};
    msgs_[i].msg_hdr = msghdr{};
    msgs_[i].msg_hdr.msg_iov = &iovs_[i];
    msgs_[i].msg_hdr.msg_iovlen = 1;
  }
}

NfQueue::~NfQueue() { mnl_socket_close(nl_); }

int NfQueue::fd() const noexcept { return mnl_socket_get_fd(nl_); }

void NfQueue::configure(std::uint16_t queue, std::uint32_t max_len) {
  const std::string name = "NFQUEUE " + std::to_string(queue);
  std::vector<char> buf(MNL_SOCKET_BUFFER_SIZE);
  unsigned seq = queue * 2u + 1;
  auto request = [&](auto&& fill, const char* what) {
    nlmsghdr* nlh = nfq_nlmsg_put(buf.data(), NFQNL_MSG_CONFIG, queue);
    nlh->nlmsg_flags |= NLM_F_ACK;
    nlh->nlmsg_seq = ++seq;
    fill(nlh);
    if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) fail(name + ": " + what);
    const ssize_t n = mnl_socket_recvfrom(nl_, buf.data(), buf.size());
    if (n < 0 || mnl_cb_run(buf.data(), static_cast<std::size_t>(n), seq, port_id_, nullptr,
                            nullptr) < 0) {
      fail(name + ": " + what + (errno == EBUSY ? " (queue in use by another process)" : ""));
    }
  };
  request([](nlmsghdr* nlh) { nfq_nlmsg_cfg_put_cmd(nlh, AF_INET, NFQNL_CFG_CMD_BIND); }, "bind");
  request(
      [max_len](nlmsghdr* nlh) {
        nfq_nlmsg_cfg_put_params(nlh, NFQNL_COPY_PACKET, 0xffff);
        nfq_nlmsg_cfg_put_qmaxlen(nlh, max_len);
        const std::uint32_t flags = NFQA_CFG_F_FAIL_OPEN | NFQA_CFG_F_GSO;
        mnl_attr_put_u32(nlh, NFQA_CFG_FLAGS, htonl(flags));
        mnl_attr_put_u32(nlh, NFQA_CFG_MASK, htonl(flags));
      },
      "set copy mode, queue length and flags (fail-open, gso)");
}

std::size_t NfQueue::receive(std::span<QueuedPacket, kBatch> out) noexcept {
  const int n = ::recvmmsg(fd(), msgs_.data(), kBatch, MSG_DONTWAIT, nullptr);
  if (n <= 0) {
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) ++counters_.recv_errors;
    return 0;
  }
  std::size_t got = 0;
  for (int i = 0; i < n; ++i) {
    auto* buf = static_cast<char*>(iovs_[static_cast<std::size_t>(i)].iov_base);
    int len = static_cast<int>(msgs_[static_cast<std::size_t>(i)].msg_len);
    for (auto* nlh = reinterpret_cast<nlmsghdr*>(buf); mnl_nlmsg_ok(nlh, len);
         nlh = mnl_nlmsg_next(nlh, &len)) {
      ++counters_.messages;
      nlattr* attr[NFQA_MAX + 1] = {};
      if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_QUEUE ||
          NFNL_MSG_TYPE(nlh->nlmsg_type) != NFQNL_MSG_PACKET ||
          nfq_nlmsg_parse(nlh, attr) < 0 || attr[NFQA_PACKET_HDR] == nullptr ||
          attr[NFQA_PAYLOAD] == nullptr || got == kBatch) {
        ++counters_.not_packets;
        continue;
      }
      const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
      const auto* ph =
          static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
      const std::uint32_t info =
          attr[NFQA_SKB_INFO] != nullptr ? ntohl(mnl_attr_get_u32(attr[NFQA_SKB_INFO])) : 0;
      QueuedPacket& p = out[got++];
      p.queue = ntohs(nfg->res_id);
      p.id = ntohl(ph->packet_id);
      p.payload = std::span<std::byte>(static_cast<std::byte*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])),
                                       mnl_attr_get_payload_len(attr[NFQA_PAYLOAD]));
      p.checksum_not_ready = (info & NFQA_SKB_CSUMNOTREADY) != 0;
      p.gso = (info & NFQA_SKB_GSO) != 0;
    }
  }
  return got;
}

void NfQueue::add_batch_verdict(std::uint16_t queue, std::uint32_t id, int verdict) noexcept {
  if (tx_.size() - tx_len_ < kVerdictMsgBytes) flush_verdicts();
  nlmsghdr* nlh = nfq_nlmsg_put(reinterpret_cast<char*>(tx_.data() + tx_len_),
                                NFQNL_MSG_VERDICT_BATCH, queue);
  nfq_nlmsg_verdict_put(nlh, static_cast<int>(id), verdict);
  tx_len_ += NLMSG_ALIGN(nlh->nlmsg_len);
}

void NfQueue::flush_verdicts() noexcept {
  if (tx_len_ == 0) return;
  ++counters_.verdict_batches;
  if (mnl_socket_sendto(nl_, tx_.data(), tx_len_) < 0) ++counters_.verdict_errors;
  tx_len_ = 0;
}

}  // namespace dmux::client
