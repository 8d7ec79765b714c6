#include "common/net/checksum.h"

#include <cstring>

namespace dmux::net {

std::uint16_t checksum_sum(std::span<const std::byte> bytes, std::uint32_t sum) noexcept {
  // Sum 32-bit big-endian words into 64 bits (no carry is lost below 2^32 words), then fold.
  std::uint64_t acc = sum;
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  while (n >= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    w = __builtin_bswap64(w);
    acc += w >> 32;
    acc += w & 0xffffffffu;
    p += 8;
    n -= 8;
  }
  while (n >= 2) {
    acc += (std::to_integer<std::uint32_t>(p[0]) << 8) | std::to_integer<std::uint32_t>(p[1]);
    p += 2;
    n -= 2;
  }
  if (n == 1) acc += std::to_integer<std::uint32_t>(p[0]) << 8;
  while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
  return static_cast<std::uint16_t>(acc);
}

std::uint16_t pseudo_header_sum(std::span<const std::byte> source,
                                std::span<const std::byte> destination, std::uint8_t protocol,
                                std::size_t l4_len) noexcept {
  std::uint32_t s = checksum_sum(source);
  s += checksum_sum(destination);
  const auto len = static_cast<std::uint32_t>(l4_len);
  s += (len >> 16) + (len & 0xffff) + protocol;
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return static_cast<std::uint16_t>(s);
}

}  // namespace dmux::net
