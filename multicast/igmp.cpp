#include "multicast/igmp.h"

#include <algorithm>

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"
#include "multicast/ipv4_packet.h"

namespace dmux::multicast {
namespace {

constexpr std::uint8_t kModeIsInclude = 1, kModeIsExclude = 2, kToInclude = 3, kToExclude = 4,
                       kAllowNew = 5, kBlockOld = 6;

IgmpStatus parse_v3_report(wire::ByteReader& r, std::span<GroupChange> out,
                           std::size_t& count) noexcept {
  std::uint16_t reserved = 0, records = 0;
  if (!r.read_u16(reserved) || !r.read_u16(records)) return IgmpStatus::kTruncated;
  // Each record takes at least 8 bytes: cap the declared count by the bytes present.
  if (records > r.remaining() / 8) return IgmpStatus::kTruncated;
  if (records > out.size()) return IgmpStatus::kMalformed;
  for (std::uint16_t i = 0; i < records; ++i) {
    std::uint8_t type = 0, aux_words = 0;
    std::uint16_t sources = 0;
    std::uint32_t group = 0;
    if (!r.read_u8(type) || !r.read_u8(aux_words) || !r.read_u16(sources) || !r.read_u32(group) ||
        !r.skip(std::size_t{sources} * 4u + std::size_t{aux_words} * 4u)) {
      return IgmpStatus::kTruncated;
    }
    bool join = false;
    switch (type) {
      case kModeIsExclude:
      case kToExclude:
        join = true;
        break;
      case kModeIsInclude:
      case kToInclude:
        join = sources != 0;
        break;
      case kAllowNew:
        if (sources == 0) continue;
        join = true;
        break;
      case kBlockOld:
        continue;
      default:
        return IgmpStatus::kMalformed;
    }
    out[count++] = GroupChange{group, join};
  }
  return r.remaining() == 0 ? IgmpStatus::kOk : IgmpStatus::kMalformed;
}

}  // namespace

IgmpStatus parse_igmp(std::span<const std::byte> message, std::span<GroupChange> out,
                      std::size_t& count) noexcept {
  count = 0;
  wire::ByteReader r(message);
  std::uint8_t type = 0, code = 0;
  std::uint16_t sum = 0;
  if (!r.read_u8(type) || !r.read_u8(code) || !r.read_u16(sum)) return IgmpStatus::kTruncated;
  if (message.size() < 8) return IgmpStatus::kTruncated;
  if (wire::checksum_finish(wire::checksum_add(message)) != 0) return IgmpStatus::kMalformed;
  switch (type) {
    case kIgmpV1Report:
    case kIgmpV2Report:
    case kIgmpV2Leave: {
      std::uint32_t group = 0;
      if (!r.read_u32(group)) return IgmpStatus::kTruncated;
      if (out.empty()) return IgmpStatus::kMalformed;
      out[count++] = GroupChange{group, type != kIgmpV2Leave};
      return IgmpStatus::kOk;  // RFC 2236: longer messages are valid, extra bytes ignored
    }
    case kIgmpV3Report:
      return parse_v3_report(r, out, count);
    case kIgmpQuery:
    default:
      return IgmpStatus::kIgnored;
  }
}

std::size_t write_general_query(std::span<std::byte> out, std::uint32_t src,
                                std::uint8_t max_resp_ds, std::uint32_t qqi_s) noexcept {
  if (out.size() < kQueryPacketLen) return 0;
  const std::span<std::byte> p = out.first(kQueryPacketLen);
  wire::ByteWriter w(p);
  w.u8(0x46);  // version 4, 24-byte header (Router Alert)
  w.u8(0xc0);  // DSCP CS6, as routers send IGMP
  w.u16(static_cast<std::uint16_t>(kQueryPacketLen));
  w.u16(0);       // id
  w.u16(0x4000);  // DF
  w.u8(1);        // TTL
  w.u8(kIpProtoIgmp);
  w.u16(0);  // header checksum, below
  w.u32(src);
  w.u32(0xe0000001u);  // 224.0.0.1, all systems
  w.u32(0x94040000u);  // Router Alert (RFC 2113)
  w.u8(kIgmpQuery);
  w.u8(std::clamp<std::uint8_t>(max_resp_ds, 1, 127));
  w.u16(0);  // IGMP checksum, below
  w.u32(0);  // group 0: general query
  w.u8(2);   // S = 0, QRV = 2
  w.u8(static_cast<std::uint8_t>(std::clamp<std::uint32_t>(qqi_s, 1, 127)));
  w.u16(0);  // no sources
  if (!w.ok()) return 0;
  const std::uint16_t ip_sum = wire::checksum_finish(wire::checksum_add(p.first(24)));
  p[10] = static_cast<std::byte>(ip_sum >> 8);
  p[11] = static_cast<std::byte>(ip_sum & 0xff);
  const std::uint16_t igmp_sum = wire::checksum_finish(wire::checksum_add(p.subspan(24)));
  p[26] = static_cast<std::byte>(igmp_sum >> 8);
  p[27] = static_cast<std::byte>(igmp_sum & 0xff);
  return kQueryPacketLen;
}

}  // namespace dmux::multicast
