#include "common/net/udp_gso.h"

#include <netinet/udp.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif

namespace dmux::net {
namespace {

constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(std::uint16_t));

// Errors with which the kernel refuses a GSO send as such (rather than the destination).
bool is_gso_refusal(int err) noexcept {
  return err == EIO || err == EINVAL || err == EOPNOTSUPP || err == ENOPROTOOPT || err == EMSGSIZE;
}

}  // namespace

UdpSendBatch::UdpSendBatch(int fd, const UdpSendBatchConfig& config)
    : fd_(fd),
      config_(config),
      gso_(config.gso),
      buffer_(config.max_bytes),
      runs_(config.max_datagrams),
      messages_(config.max_datagrams),
      message_run_(config.max_datagrams),
      iovs_(config.max_datagrams),
      names_(config.max_datagrams),
      controls_(config.max_datagrams * kControlBytes) {
  if (config.max_bytes == 0 || config.max_datagrams == 0 || config.max_segments == 0 ||
      config.max_gso_bytes > 65507) {
    throw std::invalid_argument("unusable UDP send batch configuration");
  }
}

std::span<std::byte> UdpSendBatch::reserve(std::size_t bytes, std::size_t datagrams) noexcept {
  if (bytes > buffer_.size() || datagrams > runs_.size()) return {};
  if (used_ + bytes > buffer_.size() || queued_ + datagrams > runs_.size()) flush();
  reserved_at_ = used_;
  return std::span<std::byte>(buffer_.data() + used_, bytes);
}

void UdpSendBatch::commit(const Endpoint& to, std::size_t count, std::size_t datagram_len,
                          std::size_t last_len) noexcept {
  std::size_t at = reserved_at_;
  for (std::size_t i = 0; i < count && queued_ < runs_.size(); ++i) {
    const std::size_t len = i + 1 == count ? last_len : datagram_len;
    if (at + len > buffer_.size()) break;  // more than was reserved: a caller's bug, not sent
    append(to, at, len);
    at += len;
  }
  used_ = at;
  reserved_at_ = used_;
}

bool UdpSendBatch::add(const Endpoint& to, std::span<const std::byte> header,
                       std::span<const std::byte> payload) noexcept {
  const std::span<std::byte> room = reserve(header.size() + payload.size(), 1);
  if (room.empty()) return false;
  if (!header.empty()) std::memcpy(room.data(), header.data(), header.size());
  if (!payload.empty()) std::memcpy(room.data() + header.size(), payload.data(), payload.size());
  commit(to, 1, room.size(), room.size());
  return true;
}

// A datagram joins the last run if it goes to the same place, follows it in the buffer, is no
// longer than its segments, and the run has not ended with a shorter one nor grown too big.
void UdpSendBatch::append(const Endpoint& to, std::size_t offset, std::size_t len) noexcept {
  ++queued_;
  if (run_count_ != 0) {
    Run& r = runs_[run_count_ - 1];
    const std::size_t end = r.offset + (r.count - 1) * r.segment + r.last;
    if (gso_ && r.to == to && end == offset && r.last == r.segment && len <= r.segment &&
        r.count < config_.max_segments && end - r.offset + len <= config_.max_gso_bytes) {
      ++r.count;
      r.last = len;
      return;
    }
  }
  runs_[run_count_++] = Run{.to = to, .offset = offset, .count = 1, .segment = len, .last = len};
}

void UdpSendBatch::set_message(std::size_t m, const Endpoint& to, std::size_t offset,
                               std::size_t len, std::size_t segment) noexcept {
  names_[m] = to.to_sockaddr();
  iovs_[m] = iovec{buffer_.data() + offset, len};
  msghdr& h = messages_[m].msg_hdr;
  h = msghdr{};
  h.msg_name = &names_[m];
  h.msg_namelen = sizeof(sockaddr_in);
  h.msg_iov = &iovs_[m];
  h.msg_iovlen = 1;
  if (segment != 0) {
    h.msg_control = controls_.data() + m * kControlBytes;
    h.msg_controllen = kControlBytes;
    cmsghdr* c = CMSG_FIRSTHDR(&h);
    c->cmsg_level = SOL_UDP;
    c->cmsg_type = UDP_SEGMENT;
    c->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
    const auto seg = static_cast<std::uint16_t>(segment);
    std::memcpy(CMSG_DATA(c), &seg, sizeof seg);
  }
}

// Resends a run the kernel refused as GSO, one datagram a message.
std::size_t UdpSendBatch::send_one_by_one(const Run& run) noexcept {
  std::size_t sent = 0;
  std::size_t m = 0;
  for (std::size_t i = 0; i < run.count; ++i) {
    const std::size_t len = i + 1 == run.count ? run.last : run.segment;
    set_message(m++, run.to, run.offset + i * run.segment, len, 0);
  }
  std::size_t done = 0;
  while (done < m) {
    ++counters_.syscalls;
    const int n = ::sendmmsg(fd_, messages_.data() + done, static_cast<unsigned>(m - done), 0);
    if (n <= 0) {
      ++counters_.send_failures;  // this datagram is lost; carry on with the next
      ++done;
      continue;
    }
    sent += static_cast<std::size_t>(n);
    done += static_cast<std::size_t>(n);
  }
  return sent;
}

std::size_t UdpSendBatch::flush() noexcept {
  std::size_t sent = 0;
  std::size_t first = 0;  // first run not yet sent
  while (first < run_count_) {
    std::size_t m = 0;
    for (std::size_t r = first; r < run_count_; ++r) {
      const Run& run = runs_[r];
      const std::size_t bytes = (run.count - 1) * run.segment + run.last;
      set_message(m, run.to, run.offset, bytes, run.count > 1 ? run.segment : 0);
      message_run_[m++] = r;
    }
    ++counters_.syscalls;
    const int n = ::sendmmsg(fd_, messages_.data(), static_cast<unsigned>(m), 0);
    const int err = errno;
    const std::size_t ok = n > 0 ? static_cast<std::size_t>(n) : 0;
    for (std::size_t k = 0; k < ok; ++k) {
      const Run& run = runs_[message_run_[k]];
      sent += run.count;
      if (run.count > 1) {
        ++counters_.gso_sends;
        refusals_in_a_row_ = 0;
      }
    }
    if (ok > 0) {
      // A partial count loses the error of the next message: the next round reports it.
      first += ok;
      continue;
    }
    // runs_[first] failed: refused as GSO (resend it one by one) or lost.
    const Run& bad = runs_[first];
    if (bad.count > 1 && is_gso_refusal(err)) {
      ++counters_.gso_refusals;
      if (++refusals_in_a_row_ >= kMaxGsoRefusals) gso_ = false;
      sent += send_one_by_one(bad);
    } else {
      counters_.send_failures += bad.count;
    }
    ++first;
  }
  counters_.datagrams_sent += sent;
  run_count_ = 0;
  queued_ = 0;
  used_ = 0;
  reserved_at_ = 0;
  return sent;
}

}  // namespace dmux::net
