// Software segmentation of a TCP-over-IPv6 GSO super-packet into packets of at most the TUN MTU.
// We ask NFQUEUE for GSO packets unsegmented (NFQA_CFG_F_GSO), and the kernel always builds TCP
// super-packets since Linux 5.19 whatever the device's features, so the daemon segments what it
// tunnels itself: each segment gets the original headers with its own payload length, sequence
// number, flags (FIN and PSH only on the last, CWR only on the first) and a full checksum.
// Bounds-checked; never allocates or throws.
#pragma once

#include <cstddef>
#include <span>

namespace dmux::client {

struct Segment {
  std::span<const std::byte> headers;  // IPv6 + TCP headers, in the caller's storage
  std::span<const std::byte> payload;  // a slice of the original packet
};

// Largest IPv6 + TCP header (40 + 60).
inline constexpr std::size_t kMaxTcp6Headers = 100;

// True if `packet` is IPv6 carrying TCP directly.
[[nodiscard]] bool is_tcp6(std::span<const std::byte> packet) noexcept;

// Splits `packet` into segments of at most `mtu` bytes. Headers are written to `storage`
// (kMaxTcp6Headers per segment). Returns the number of segments, or 0 if the packet is not a whole
// TCP/IPv6 packet or does not fit `out`/`storage`.
std::size_t segment_tcp6(std::span<const std::byte> packet, std::size_t mtu,
                         std::span<std::byte> storage, std::span<Segment> out) noexcept;

}  // namespace dmux::client
