#include "common/net/checksum.h"

#include <bit>
#include <cstring>

namespace dmux::net {

namespace {
std::uint64_t add_carry(std::uint64_t a, std::uint64_t b) noexcept {  // one's complement add
  std::uint64_t s = 0;
  const bool carry = __builtin_add_overflow(a, b, &s);
  return s + carry;
}
}  // namespace

std::uint16_t checksum_sum(std::span<const std::byte> bytes, std::uint32_t sum) noexcept {
  // One's complement addition does not care about byte order (RFC 1071 2(B)): add the bytes as
  // native 64-bit words with end-around carry (two chains, 32 bytes a round), fold to 16 bits,
  // and put that into network order once; then add `sum`.
  const std::byte* p = bytes.data();
  std::size_t n = bytes.size();
  std::uint64_t a = 0, b = 0;
  while (n >= 32) {
    std::uint64_t w[4];
    std::memcpy(w, p, sizeof w);
    a = add_carry(a, w[0]);
    b = add_carry(b, w[1]);
    a = add_carry(a, w[2]);
    b = add_carry(b, w[3]);
    p += 32;
    n -= 32;
  }
  for (; n >= 8; p += 8, n -= 8) {
    std::uint64_t w = 0;
    std::memcpy(&w, p, 8);
    a = add_carry(a, w);
  }
  if (n > 0) {  // the tail keeps its place in its 16-bit words (an odd last byte: the high one)
    std::uint64_t w = 0;
    std::memcpy(&w, p, n);
    b = add_carry(b, w);
  }
  a = add_carry(a, b);
  a = (a & 0xffffffffu) + (a >> 32);
  a = (a & 0xffffffffu) + (a >> 32);
  a = (a & 0xffff) + (a >> 16);
  a = (a & 0xffff) + (a >> 16);
  auto folded = static_cast<std::uint16_t>(a);
  if constexpr (std::endian::native == std::endian::little) folded = __builtin_bswap16(folded);
  std::uint64_t total = std::uint64_t{folded} + sum;
  while (total >> 16) total = (total & 0xffff) + (total >> 16);
  return static_cast<std::uint16_t>(total);
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
