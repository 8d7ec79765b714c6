#include "tools/loadgen/probe.h"

#include "common/wire/byte_reader.h"
#include "common/wire/byte_writer.h"
#include "common/wire/shim.h"

namespace dmux::loadgen {
namespace {

std::size_t header_len(const ShimSpec& shim) noexcept {
  return shim.enabled ? wire::kDataHeaderLen : 0;
}

}  // namespace

std::size_t min_datagram_bytes(const ShimSpec& shim) noexcept {
  return header_len(shim) + kProbeStampLen;
}

bool build_datagram(std::span<std::byte> out, std::size_t len, const ShimSpec& shim,
                    const ProbeStamp& stamp, std::size_t& stamp_offset) noexcept {
  if (len < min_datagram_bytes(shim) || len > out.size()) return false;
  const auto datagram = out.first(len);
  std::size_t offset = 0;
  if (shim.enabled) {
    const wire::ShimHeader h{.flags = 0,
                             .proto_id = wire::ProtoId{shim.proto_id},
                             .provider_id = wire::ProviderId{shim.provider_id},
                             .token = shim.token};
    offset = wire::write_shim(datagram, wire::MsgType::kData, h);
    if (offset == 0) return false;
  }
  wire::ByteWriter pad(datagram.subspan(offset));
  pad.zeros(len - offset);
  if (!pad.ok() || !write_stamp(datagram, offset, stamp)) return false;
  stamp_offset = offset;
  return true;
}

bool write_stamp(std::span<std::byte> datagram, std::size_t offset,
                 const ProbeStamp& stamp) noexcept {
  if (offset > datagram.size()) return false;
  wire::ByteWriter w(datagram.subspan(offset));
  w.u32(kProbeMagic);
  w.u64(stamp.seq);
  w.u64(static_cast<std::uint64_t>(stamp.send_ns));
  return w.ok();
}

bool read_stamp(std::span<const std::byte> payload, ProbeStamp& out) noexcept {
  wire::ByteReader r(payload);
  std::uint32_t magic = 0;
  std::uint64_t seq = 0;
  std::uint64_t ns = 0;
  if (!r.read_u32(magic) || magic != kProbeMagic || !r.read_u64(seq) || !r.read_u64(ns)) {
    return false;
  }
  out = ProbeStamp{seq, static_cast<std::int64_t>(ns)};
  return true;
}

}  // namespace dmux::loadgen
