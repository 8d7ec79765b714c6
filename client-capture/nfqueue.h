// NFQUEUE through libnetfilter_queue's libmnl interface (nfq_nlmsg_*): one netlink socket bound
// to a range of queues, copy-packet mode, NFQA_CFG_F_FAIL_OPEN (a full queue accepts instead of
// dropping) and NFQA_CFG_F_GSO (the kernel neither segments nor checksums for us: packets may
// arrive with NFQA_SKB_CSUMNOTREADY), a large receive buffer and batch verdicts.
//
// Threading: one thread (the event loop's). The constructor throws std::system_error; receive and
// the verdicts never throw or allocate.
#pragma once

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

struct mnl_socket;

namespace dmux::client {

struct QueuedPacket {
  std::uint16_t queue = 0;
  std::uint32_t id = 0;            // for the verdict
  std::span<std::byte> payload;    // the IP packet; valid until the next receive()
  bool checksum_not_ready = false; // NFQA_SKB_CSUMNOTREADY: the L4 checksum is only partial
  bool gso = false;                // NFQA_SKB_GSO: a not yet segmented super-packet
};

struct NfQueueCounters {
  std::uint64_t messages = 0;      // netlink messages received
  std::uint64_t not_packets = 0;   // messages that were not a queued packet (or lacked fields)
  std::uint64_t recv_errors = 0;   // recvmmsg failures other than EAGAIN (ENOBUFS: overrun)
  std::uint64_t verdict_batches = 0;
  std::uint64_t verdict_errors = 0;
};

class NfQueue {
 public:
  static constexpr std::size_t kBatch = 32;  // messages per receive()

  NfQueue(std::uint16_t first_queue, std::uint16_t count, std::uint32_t max_len,
          int rcvbuf_bytes);
  ~NfQueue();
  NfQueue(const NfQueue&) = delete;
  NfQueue& operator=(const NfQueue&) = delete;

  [[nodiscard]] int fd() const noexcept;

  // Receives up to kBatch queued packets without blocking into `out`; returns how many.
  std::size_t receive(std::span<QueuedPacket, kBatch> out) noexcept;

  // Queues, for sending with flush_verdicts(), a verdict for every packet of `queue` with an id up
  // to `id` that has none yet (NFQNL_MSG_VERDICT_BATCH).
  void add_batch_verdict(std::uint16_t queue, std::uint32_t id, int verdict) noexcept;
  void flush_verdicts() noexcept;

  [[nodiscard]] const NfQueueCounters& counters() const noexcept { return counters_; }

 private:
  void configure(std::uint16_t queue, std::uint32_t max_len);

  mnl_socket* nl_ = nullptr;
  unsigned port_id_ = 0;
  std::vector<std::byte> rx_;  // kBatch receive buffers
  std::vector<mmsghdr> msgs_;
  std::vector<iovec> iovs_;
  std::vector<std::byte> tx_;  // verdict messages
  std::size_t tx_len_ = 0;
  NfQueueCounters counters_;
};

}  // namespace dmux::client
