#include "multicast/igmp.h"

#include "common/wire/byte_reader.h"
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

}  // namespace dmux::multicast
