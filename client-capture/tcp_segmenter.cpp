#include "client-capture/tcp_segmenter.h"

#include <algorithm>
#include <cstdint>

#include "common/wire/byte_reader.h"
#include "common/wire/inet_checksum.h"

namespace dmux::client {
namespace {

constexpr std::uint8_t kTcp = 6;
constexpr std::byte kFin{0x01}, kPsh{0x08}, kCwr{0x80};

void put16(std::span<std::byte> b, std::size_t at, std::uint16_t v) noexcept {
  b[at] = static_cast<std::byte>(v >> 8);
  b[at + 1] = static_cast<std::byte>(v & 0xff);
}

void put32(std::span<std::byte> b, std::size_t at, std::uint32_t v) noexcept {
  put16(b, at, static_cast<std::uint16_t>(v >> 16));
  put16(b, at + 2, static_cast<std::uint16_t>(v & 0xffff));
}

}  // namespace

bool is_tcp6(std::span<const std::byte> packet) noexcept {
  return packet.size() >= 60 && (std::to_integer<unsigned>(packet[0]) >> 4) == 6 &&
         packet[6] == std::byte{kTcp};
}

std::size_t segment_tcp6(std::span<const std::byte> packet, std::size_t mtu,
                         std::span<std::byte> storage, std::span<Segment> out) noexcept {
  if (!is_tcp6(packet)) return 0;
  wire::ByteReader r(packet.subspan(44));
  std::uint32_t seq = 0;
  std::uint32_t ack = 0;
  std::uint8_t offset = 0;
  if (!r.read_u32(seq) || !r.read_u32(ack) || !r.read_u8(offset)) return 0;
  const std::size_t tcp_len = (offset >> 4) * 4u;
  const std::size_t hlen = 40 + tcp_len;
  if (tcp_len < 20 || packet.size() < hlen || mtu <= hlen) return 0;
  const std::size_t payload_len_field =
      (std::to_integer<std::size_t>(packet[4]) << 8) | std::to_integer<std::size_t>(packet[5]);
  if (40 + payload_len_field != packet.size()) return 0;
  const std::span<const std::byte> payload = packet.subspan(hlen);
  const std::size_t chunk = mtu - hlen;
  const std::size_t count = std::max<std::size_t>(1, (payload.size() + chunk - 1) / chunk);
  if (count > out.size() || count * kMaxTcp6Headers > storage.size()) return 0;
  for (std::size_t i = 0; i < count; ++i) {
    const std::span<std::byte> h = storage.subspan(i * kMaxTcp6Headers, hlen);
    std::copy(packet.begin(), packet.begin() + static_cast<std::ptrdiff_t>(hlen), h.begin());
    const std::span<const std::byte> piece =
        payload.subspan(i * chunk, std::min(chunk, payload.size() - i * chunk));
    put16(h, 4, static_cast<std::uint16_t>(tcp_len + piece.size()));
    put32(h, 44, seq + static_cast<std::uint32_t>(i * chunk));
    if (i + 1 < count) h[53] &= ~(kFin | kPsh);
    if (i > 0) h[53] &= ~kCwr;
    put16(h, 56, 0);
    const auto len = static_cast<std::uint32_t>(tcp_len + piece.size());
    std::uint32_t sum = wire::checksum_add(h.subspan(8, 32));
    sum += (len >> 16) + (len & 0xffff) + kTcp;
    sum = wire::checksum_add(h.subspan(40), sum);  // even length: words stay aligned
    put16(h, 56, wire::checksum_finish(wire::checksum_add(piece, sum)));
    out[i] = Segment{h, piece};
  }
  return count;
}

}  // namespace dmux::client
