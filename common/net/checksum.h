// The Internet checksum (RFC 1071) for offload work on whole packets, 8 bytes at a time (the
// byte-wise wire/inet_checksum.h is for small control messages). Arithmetic over bytes, not
// parsing: it reads no field. Pure; never allocates or throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

namespace dmux::net {

// The one's-complement sum of `bytes` (big-endian 16-bit words, an odd last byte padded with
// zero) added to `sum`, folded to 16 bits, not complemented. Sums of pieces can be added with
// checksum_combine() only if every piece but the last has an even length.
[[nodiscard]] std::uint16_t checksum_sum(std::span<const std::byte> bytes,
                                         std::uint32_t sum = 0) noexcept;

[[nodiscard]] constexpr std::uint16_t checksum_combine(std::uint32_t a, std::uint32_t b) noexcept {
  std::uint32_t s = a + b;
  s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>((s & 0xffff) + (s >> 16));
}

// The pseudo-header sum (RFC 768/793 for IPv4, RFC 8200 8.1 for IPv6) of a transport message of
// `l4_len` bytes and `protocol`, between the addresses (4 or 16 bytes each), not complemented.
[[nodiscard]] std::uint16_t pseudo_header_sum(std::span<const std::byte> source,
                                              std::span<const std::byte> destination,
                                              std::uint8_t protocol, std::size_t l4_len) noexcept;

// Stores the complement of `sum` big-endian at `at` (a 2-byte field).
inline void store_checksum(std::span<std::byte> at, std::uint16_t folded_sum) noexcept {
  const auto c = static_cast<std::uint16_t>(~folded_sum);
  at[0] = static_cast<std::byte>(c >> 8);
  at[1] = static_cast<std::byte>(c & 0xff);
}

}  // namespace dmux::net
