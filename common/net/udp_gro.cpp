#include "common/net/udp_gro.h"

#include <netinet/udp.h>

#include <cstring>
#include <stdexcept>

#ifndef UDP_GRO
#define UDP_GRO 104
#endif

namespace dmux::net {
namespace {

constexpr std::size_t kControlBytes = CMSG_SPACE(sizeof(int));

// The GRO segment size of a received message, 0 if it carried none.
std::size_t gro_segment(const msghdr& h) noexcept {
  for (const cmsghdr* c = CMSG_FIRSTHDR(&h); c != nullptr;
       c = CMSG_NXTHDR(const_cast<msghdr*>(&h), const_cast<cmsghdr*>(c))) {
    if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
        c->cmsg_len >= CMSG_LEN(sizeof(int))) {
      int segment = 0;
      std::memcpy(&segment, CMSG_DATA(c), sizeof segment);
      return segment > 0 ? static_cast<std::size_t>(segment) : 0;
    }
  }
  return 0;
}

}  // namespace

bool enable_udp_gro(int fd) noexcept {
  const int on = 1;
  return ::setsockopt(fd, SOL_UDP, UDP_GRO, &on, sizeof on) == 0;
}

std::size_t split_gro_buffer(std::span<std::byte> bytes, std::size_t segment,
                             std::span<std::span<std::byte>> out) noexcept {
  if (bytes.empty() || out.empty()) return 0;
  if (segment == 0 || segment >= bytes.size()) {
    out[0] = bytes;
    return 1;
  }
  std::size_t n = 0;
  for (std::size_t at = 0; at < bytes.size() && n < out.size(); at += segment) {
    out[n++] = bytes.subspan(at, std::min(segment, bytes.size() - at));
  }
  return n;
}

UdpBatchReceiver::UdpBatchReceiver(int fd, const UdpReceiveConfig& config)
    : fd_(fd),
      config_(config),
      buffers_(config.batch * (config.headroom + config.buffer_bytes)),
      controls_(config.batch * kControlBytes),
      names_(config.batch),
      iovs_(config.batch),
      headers_(config.batch),
      views_(config.max_datagrams),
      senders_(config.max_datagrams) {
  if (config.batch == 0 || config.buffer_bytes == 0 || config.max_datagrams < config.batch) {
    throw std::invalid_argument("unusable UDP receive configuration");
  }
  gro_ = config.gro && enable_udp_gro(fd);
  for (std::size_t i = 0; i < config_.batch; ++i) {  // buffers and headers are fixed from here on
    iovs_[i] = iovec{buffer(i), config_.buffer_bytes};
    msghdr& h = headers_[i].msg_hdr;
    h = msghdr{};
    h.msg_name = &names_[i];
    h.msg_iov = &iovs_[i];
    h.msg_iovlen = 1;
    h.msg_control = controls_.data() + i * kControlBytes;
  }
}

std::size_t UdpBatchReceiver::receive() noexcept {
  for (std::size_t i = 0; i < config_.batch; ++i) {  // what the kernel wrote back last time
    msghdr& h = headers_[i].msg_hdr;
    h.msg_namelen = sizeof(sockaddr_in);
    h.msg_controllen = kControlBytes;
    h.msg_flags = 0;
  }
  ++counters_.syscalls;
  const int got =
      ::recvmmsg(fd_, headers_.data(), static_cast<unsigned>(config_.batch), MSG_DONTWAIT, nullptr);
  drained_ = got < static_cast<int>(config_.batch);  // EAGAIN, an error or a partial batch
  if (got <= 0) return 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < static_cast<std::size_t>(got); ++i) {
    const msghdr& h = headers_[i].msg_hdr;
    ++counters_.buffers;
    if ((h.msg_flags & MSG_TRUNC) != 0) {
      ++counters_.truncated;
      continue;
    }
    const std::span<std::byte> bytes(buffer(i), headers_[i].msg_len);
    std::size_t k = 0;
    if (!bytes.empty()) {
      k = split_gro_buffer(bytes, gro_segment(h), std::span(views_).subspan(n));
    } else if (n < views_.size()) {  // an empty datagram is still one, for the caller to count
      views_[n] = bytes;
      k = 1;
    }
    if (k > 1) ++counters_.gro_buffers;
    const Endpoint from = Endpoint::from_sockaddr(names_[i]);
    for (std::size_t j = n; j < n + k; ++j) senders_[j] = from;
    n += k;
  }
  counters_.datagrams += n;
  return n;
}

}  // namespace dmux::net
