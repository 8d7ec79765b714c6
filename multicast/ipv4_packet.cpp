#include "multicast/ipv4_packet.h"

#include "common/wire/byte_reader.h"
#include "common/wire/inet_checksum.h"

namespace dmux::multicast {

bool parse_ipv4(std::span<const std::byte> packet, Ipv4View& out) noexcept {
  wire::ByteReader r(packet);
  std::uint8_t vihl = 0, tos = 0, ttl = 0, protocol = 0;
  std::uint16_t total = 0, id = 0, frag = 0, sum = 0;
  std::uint32_t src = 0, dst = 0;
  if (!r.read_u8(vihl) || !r.read_u8(tos) || !r.read_u16(total) || !r.read_u16(id) ||
      !r.read_u16(frag) || !r.read_u8(ttl) || !r.read_u8(protocol) || !r.read_u16(sum) ||
      !r.read_u32(src) || !r.read_u32(dst)) {
    return false;
  }
  const std::size_t ihl = (vihl & 0x0fu) * 4u;
  if ((vihl >> 4) != 4 || ihl < 20 || total != packet.size() || total < ihl) return false;
  if (wire::checksum_finish(wire::checksum_add(packet.first(ihl))) != 0) return false;
  out.src = src;
  out.dst = dst;
  out.protocol = protocol;
  out.fragment = (frag & 0x3fffu) != 0;  // MF or an offset
  out.payload = packet.subspan(ihl);
  return true;
}

}  // namespace dmux::multicast
