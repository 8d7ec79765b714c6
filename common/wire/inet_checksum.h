// The Internet checksum (RFC 1071) and the IPv6 upper-layer checksum with its pseudo-header
// (RFC 8200 section 8.1). Pure functions over bytes; never allocate, never throw. Used by the
// client daemon (finishing checksums the kernel left partial) and the provider agent (router
// advertisements it builds).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::wire {

// One's-complement sum of `bytes` (big-endian 16-bit words, an odd last byte padded with zero),
// added to `sum` and not yet folded.
constexpr std::uint32_t checksum_add(std::span<const std::byte> bytes,
                                     std::uint32_t sum = 0) noexcept {
  std::size_t i = 0;
  for (; i + 1 < bytes.size(); i += 2) {
    sum += (std::to_integer<std::uint32_t>(bytes[i]) << 8) |
           std::to_integer<std::uint32_t>(bytes[i + 1]);
    if (sum & 0x8000'0000u) sum = (sum & 0xffff) + (sum >> 16);
  }
  if (i < bytes.size()) sum += std::to_integer<std::uint32_t>(bytes[i]) << 8;
  return sum;
}

// Folds to 16 bits and complements.
constexpr std::uint16_t checksum_finish(std::uint32_t sum) noexcept {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum & 0xffff);
}

// The checksum of an upper-layer message `l4` (its checksum field zeroed, or included: then a
// correct message sums to 0) carried in IPv6 from `source` to `destination` with `next_header`.
constexpr std::uint16_t ipv6_l4_checksum(std::span<const std::byte, 16> source,
                                         std::span<const std::byte, 16> destination,
                                         std::uint8_t next_header,
                                         std::span<const std::byte> l4) noexcept {
  std::uint32_t sum = checksum_add(source);
  sum = checksum_add(destination, sum);
  const auto len = static_cast<std::uint32_t>(l4.size());
  sum += (len >> 16) + (len & 0xffff) + next_header;
  return checksum_finish(checksum_add(l4, sum));
}

}  // namespace dmux::wire
