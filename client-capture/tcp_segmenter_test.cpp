#include "client-capture/tcp_segmenter.h"

#include <doctest/doctest.h>

#include <vector>

#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"

namespace dmux::client {
namespace {

using Bytes = std::vector<std::byte>;

Bytes tcp6(std::size_t payload, std::uint8_t flags) {
  Bytes p(60 + payload);
  for (std::size_t i = 60; i < p.size(); ++i) p[i] = static_cast<std::byte>(i * 7);
  wire::ByteWriter w(p);
  w.u32(0x60000000);
  w.u16(static_cast<std::uint16_t>(20 + payload));
  w.u8(6);
  w.u8(64);
  w.zeros(15);
  w.u8(1);
  w.zeros(15);
  w.u8(2);
  w.u16(40000);
  w.u16(7000);
  w.u32(0xfffffff0);  // sequence wraps inside the packet
  w.u32(1);
  w.u8(0x50);
  w.u8(flags);
  return p;
}

}  // namespace

TEST_CASE("a super-packet becomes MTU-sized segments with correct headers") {
  const Bytes p = tcp6(3000, 0x80 | 0x18 | 0x01);  // CWR, PSH|ACK, FIN
  Bytes storage(8 * kMaxTcp6Headers);
  std::array<Segment, 8> out{};
  const std::size_t n = segment_tcp6(p, 1400, storage, out);
  REQUIRE(n == 3);
  std::size_t total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Segment& s = out[i];
    CHECK(s.headers.size() + s.payload.size() <= 1400);
    Bytes whole(s.headers.begin(), s.headers.end());
    whole.insert(whole.end(), s.payload.begin(), s.payload.end());
    const std::span<const std::byte> all(whole);
    CHECK(wire::ipv6_l4_checksum(all.subspan<8, 16>(), all.subspan<24, 16>(), 6,
                                 all.subspan(40)) == 0);
    CHECK(((std::to_integer<std::size_t>(whole[4]) << 8) | std::to_integer<std::size_t>(whole[5])) ==
          whole.size() - 40);
    const auto flags = std::to_integer<unsigned>(whole[53]);
    CHECK(((flags & 0x01) != 0) == (i == n - 1));
    CHECK(((flags & 0x08) != 0) == (i == n - 1));
    CHECK(((flags & 0x80) != 0) == (i == 0));
    CHECK((flags & 0x10) != 0);
    total += s.payload.size();
  }
  CHECK(total == 3000);
  // Segment 2 starts 1340 bytes on: 0xfffffff0 + 1340 wraps to 0x0000052c.
  CHECK(Bytes(out[1].headers.begin() + 44, out[1].headers.begin() + 48) ==
        Bytes{std::byte{0}, std::byte{0}, std::byte{0x05}, std::byte{0x2c}});
}

TEST_CASE("packets that are not whole TCP/IPv6 are refused") {
  Bytes storage(8 * kMaxTcp6Headers);
  std::array<Segment, 8> out{};
  Bytes p = tcp6(3000, 0x10);
  p.pop_back();
  CHECK(segment_tcp6(p, 1400, storage, out) == 0);
  CHECK(segment_tcp6(tcp6(30000, 0x10), 1400, storage, out) == 0);  // more than 8 segments
  Bytes udp = tcp6(100, 0);
  udp[6] = std::byte{17};
  CHECK(segment_tcp6(udp, 1400, storage, out) == 0);
}

}  // namespace dmux::client
