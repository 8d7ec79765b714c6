#include "client-capture/checksum_fixup.h"

#include <array>
#include <cstdint>

#include "common/wire/byte_reader.h"
#include "common/wire/inet_checksum.h"

namespace dmux::client {
namespace {

constexpr std::uint8_t kTcp = 6, kUdp = 17, kIcmpv6 = 58;

// Offset of the checksum field inside the transport header, or 0 if unknown.
std::size_t checksum_offset(std::uint8_t proto, bool v6) noexcept {
  if (proto == kTcp) return 16;
  if (proto == kUdp) return 6;
  if (proto == kIcmpv6 && v6) return 2;
  return 0;
}

bool write_sum(std::span<std::byte> l4, std::size_t off, std::uint8_t proto,
               std::uint32_t pseudo) noexcept {
  if (off == 0 || l4.size() < off + 2) return false;
  l4[off] = std::byte{0};
  l4[off + 1] = std::byte{0};
  std::uint16_t sum = wire::checksum_finish(wire::checksum_add(l4, pseudo));
  if (sum == 0 && proto == kUdp) sum = 0xffff;
  l4[off] = static_cast<std::byte>(sum >> 8);
  l4[off + 1] = static_cast<std::byte>(sum & 0xff);
  return true;
}

}  // namespace

bool finish_checksum(std::span<std::byte> packet) noexcept {
  wire::ByteReader r(packet);
  std::uint8_t first = 0;
  if (!r.read_u8(first)) return false;
  if ((first >> 4) == 6) {
    if (packet.size() < 40) return false;
    const auto proto = std::to_integer<std::uint8_t>(packet[6]);
    const std::span<std::byte> l4 = packet.subspan(40);
    const auto len = static_cast<std::uint32_t>(l4.size());
    std::uint32_t pseudo = wire::checksum_add(packet.subspan(8, 32));
    pseudo += (len >> 16) + (len & 0xffff) + proto;
    return write_sum(l4, checksum_offset(proto, true), proto, pseudo);
  }
  if ((first >> 4) == 4) {
    const std::size_t ihl = (first & 0x0f) * 4u;
    if (ihl < 20 || packet.size() < ihl) return false;
    const auto proto = std::to_integer<std::uint8_t>(packet[9]);
    const std::span<std::byte> l4 = packet.subspan(ihl);
    std::uint32_t pseudo = wire::checksum_add(packet.subspan(12, 8));
    pseudo += static_cast<std::uint32_t>(l4.size()) + proto;
    return write_sum(l4, checksum_offset(proto, false), proto, pseudo);
  }
  return false;
}

}  // namespace dmux::client
