#include "gateway/dataplane/egress_batch.h"

#include <netinet/udp.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace dmux::gateway {
namespace {
constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(std::uint16_t));

// The kernel only reads through an iovec of a send, hence the const_cast.
iovec to_iovec(std::span<const std::byte> bytes) noexcept {
  return iovec{const_cast<std::byte*>(bytes.data()), bytes.size()};
}

// Writes the packet's iovecs at `out` (room for two); returns how many.
unsigned put_iovecs(const OutPacket& p, iovec* out) noexcept {
  out[0] = to_iovec(p.head);
  if (p.body.empty()) return 1;
  out[1] = to_iovec(p.body);
  return 2;
}
}  // namespace

std::size_t plan_send_groups(std::span<const OutPacket> packets, std::span<SendGroup> groups,
                             std::span<std::uint32_t> group_of, const GsoLimits& limits) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < packets.size(); ++i) {
    const OutPacket& p = packets[i];
    const std::size_t len = p.size();
    // The newest open group to the same router, if any (batches are small: linear search).
    std::size_t g = n;
    for (std::size_t k = n; k-- > 0;) {
      if (groups[k].dest == p.dest) {
        if (!groups[k].closed) g = k;
        break;
      }
    }
    if (g < n && len <= groups[g].segment_size && len <= limits.max_segment_size &&
        groups[g].segment_size <= limits.max_segment_size &&
        groups[g].count < limits.max_segments && groups[g].bytes + len <= limits.max_bytes) {
      SendGroup& grp = groups[g];
      ++grp.count;
      grp.bytes += len;
      if (len < grp.segment_size) grp.closed = true;
      group_of[i] = static_cast<std::uint32_t>(g);
      continue;
    }
    if (g < n) groups[g].closed = true;
    groups[n] = SendGroup{p.dest, len, len, 1, false};
    group_of[i] = static_cast<std::uint32_t>(n);
    ++n;
  }
  return n;
}

EgressBatch::EgressBatch(unsigned capacity, bool use_gso)
    : use_gso_(use_gso),
      packets_(capacity),
      groups_(capacity),
      group_of_(capacity),
      first_iov_(capacity),
      iov_count_(capacity),
      iov_(2 * std::size_t{capacity}),
      addr_(capacity),
      msgs_(capacity),
      group_result_(capacity),
      control_(kControlBytes * capacity) {}

std::size_t EgressBatch::build_messages(std::size_t groups) noexcept {
  std::fill_n(iov_count_.begin(), groups, 0u);
  for (unsigned i = 0; i < queued_; ++i) iov_count_[group_of_[i]] += packets_[i].iovecs();
  std::uint32_t next = 0;
  for (std::size_t g = 0; g < groups; ++g) {
    first_iov_[g] = next;
    next += iov_count_[g];
    iov_count_[g] = 0;  // reused below as a fill cursor, back to the group's count by its end
  }
  for (unsigned i = 0; i < queued_; ++i) {
    const std::uint32_t g = group_of_[i];
    iov_count_[g] += put_iovecs(packets_[i], &iov_[first_iov_[g] + iov_count_[g]]);
  }
  for (std::size_t g = 0; g < groups; ++g) {
    addr_[g] = groups_[g].dest.to_sockaddr();
    msghdr& h = msgs_[g].msg_hdr;
    h = msghdr{};
    h.msg_name = &addr_[g];
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_iov = &iov_[first_iov_[g]];
    h.msg_iovlen = iov_count_[g];
    if (groups_[g].count > 1) {
      h.msg_control = &control_[g * kControlBytes];
      h.msg_controllen = kControlBytes;
      cmsghdr* c = CMSG_FIRSTHDR(&h);
      c->cmsg_level = SOL_UDP;
      c->cmsg_type = UDP_SEGMENT;
      c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
      const auto seg = static_cast<std::uint16_t>(groups_[g].segment_size);
      std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
    }
  }
  return groups;
}

void EgressBatch::count_results(DataPathCounters& counters) noexcept {
  for (unsigned i = 0; i < queued_; ++i) {
    switch (group_result_[group_of_[i]]) {
      case Result::kSent: {
        const std::size_t slot = wire::protocol_slot(packets_[i].proto_id);
        counters.tx_packets[slot].add();
        counters.tx_bytes[slot].add(packets_[i].size());
        break;
      }
      case Result::kFailed:
        counters.drops[static_cast<std::size_t>(DropReason::kSendFailed)].add();
        break;
      case Result::kCountedAlready:
        break;
    }
  }
}

void EgressBatch::send_one_by_one(int fd, std::size_t group, DataPathCounters& counters) noexcept {
  for (unsigned i = 0; i < queued_; ++i) {
    if (group_of_[i] != group) continue;
    iovec v[2];
    sockaddr_in sa = packets_[i].dest.to_sockaddr();
    msghdr h{};
    h.msg_name = &sa;
    h.msg_namelen = sizeof sa;
    h.msg_iov = v;
    h.msg_iovlen = put_iovecs(packets_[i], v);
    const bool ok = ::sendmsg(fd, &h, MSG_DONTWAIT) >= 0;
    const std::size_t slot = wire::protocol_slot(packets_[i].proto_id);
    if (ok) {
      counters.tx_packets[slot].add();
      counters.tx_bytes[slot].add(packets_[i].size());
    } else {
      counters.drops[static_cast<std::size_t>(DropReason::kSendFailed)].add();
    }
  }
}

void EgressBatch::flush(int fd, DataPathCounters& counters) noexcept {
  if (queued_ == 0) return;
  GsoLimits limits;
  if (!use_gso_) limits.max_segments = 1;
  const std::size_t groups = build_messages(
      plan_send_groups(std::span(packets_.data(), queued_), groups_, group_of_, limits));
  std::size_t done = 0;
  while (done < groups) {
    const int sent =
        ::sendmmsg(fd, msgs_.data() + done, static_cast<unsigned>(groups - done), MSG_DONTWAIT);
    if (sent < 0 && errno == EINTR) continue;
    if (sent < 0) {
      // The first pending message failed. If a GSO send was refused (no checksum offload on the
      // route, a smaller MTU, an old kernel), resend that group datagram by datagram and give up
      // GSO after repeated refusals; otherwise (EAGAIN: buffer full; or a per-destination
      // error) count it and move on. Never block.
      const int err = errno;
      if (groups_[done].count > 1 && (err == EIO || err == EINVAL || err == EOPNOTSUPP)) {
        if (++gso_failures_ >= kMaxGsoFailures) use_gso_ = false;
        send_one_by_one(fd, done, counters);
        group_result_[done] = Result::kCountedAlready;
      } else {
        group_result_[done] = Result::kFailed;
      }
      ++done;
      continue;
    }
    for (int k = 0; k < sent; ++k) {
      const std::size_t g = done + static_cast<std::size_t>(k);
      group_result_[g] = Result::kSent;
      if (groups_[g].count > 1) gso_failures_ = 0;
    }
    done += static_cast<std::size_t>(sent);
  }
  count_results(counters);
  queued_ = 0;
}

}  // namespace dmux::gateway
