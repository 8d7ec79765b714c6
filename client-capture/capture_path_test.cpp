#include "client-capture/capture_path.h"

#include <doctest/doctest.h>

#include <vector>

#include "client-capture/selector.h"
#include "common/wire/byte_writer.h"
#include "common/wire/inet_checksum.h"
#include "common/wire/protocols.h"

namespace dmux::client {
namespace {

using Bytes = std::vector<std::byte>;
constexpr std::uint64_t kToken = 0xdeadbeef;

Ipv6Address addr(std::uint8_t last) {
  Ipv6Address a{};
  a[0] = std::byte{0x20};
  a[1] = std::byte{0x01};
  a[15] = std::byte{last};
  return a;
}

// An IPv6 UDP packet with a deliberately wrong checksum.
Bytes ipv6_udp(const Ipv6Address& src, const Ipv6Address& dst, std::size_t payload = 8) {
  Bytes p(48 + payload, std::byte{0x11});
  wire::ByteWriter w(p);
  w.u32(0x60000000);
  w.u16(static_cast<std::uint16_t>(8 + payload));
  w.u8(17);
  w.u8(64);
  w.bytes(src);
  w.bytes(dst);
  w.u16(1000);
  w.u16(2000);
  w.u16(static_cast<std::uint16_t>(8 + payload));
  w.u16(0x1234);
  return p;
}

Bytes ret(const Bytes& packet, std::uint64_t token = kToken, std::uint16_t proto = 1) {
  Bytes d(wire::kReturnHeaderLen);
  REQUIRE(wire::write_shim(d, wire::MsgType::kReturn,
                           wire::ShimHeader{.flags = 0, .proto_id = proto, .provider_id = 7,
                                            .token = token}) == wire::kReturnHeaderLen);
  d.insert(d.end(), packet.begin(), packet.end());
  return d;
}

CapturePath make_path() {
  return CapturePath(CapturePathConfig{.selectors = {parse_selector("ipv6:provider=7"),
                                                     parse_selector("ipv4-multicast")},
                                       .first_queue = 5,
                                       .max_packet = 1400},
                     kToken);
}

}  // namespace

TEST_CASE("captured IPv6 from our address is tagged; checksums are completed") {
  CapturePath path = make_path();
  Bytes p = ipv6_udp(addr(1), addr(2));
  std::array<std::byte, wire::kDataHeaderLen> h{};
  CHECK(CapturePath::CaptureKind::kDrop == path.on_captured(5, p, false, h));
  CHECK(path.counters().dropped(Drop::kNoAddress) == 1);
  path.set_address(addr(1));
  REQUIRE(path.on_captured(5, p, true, h) == CapturePath::CaptureKind::kSend);
  wire::ShimHeader sh;
  std::span<const std::byte> payload;
  Bytes d(h.begin(), h.end());
  d.insert(d.end(), p.begin(), p.end());
  REQUIRE(wire::parse_shim(d, wire::MsgType::kData, sh, payload) == wire::ParseStatus::kOk);
  CHECK(sh.proto_id == wire::kProtoIpv6);
  CHECK(sh.provider_id == 7);
  CHECK(sh.token == kToken);
  const std::span<const std::byte> all(p);
  CHECK(wire::ipv6_l4_checksum(all.subspan<8, 16>(), all.subspan<24, 16>(), 17,
                               all.subspan(40)) == 0);
  CHECK(path.counters().checksums_finished == 1);
  Bytes other = ipv6_udp(addr(9), addr(2));
  CHECK(CapturePath::CaptureKind::kDrop == path.on_captured(5, other, false, h));
  CHECK(path.counters().dropped(Drop::kStaleSource) == 1);
  Bytes big = ipv6_udp(addr(1), addr(2), 1400);
  CHECK(CapturePath::CaptureKind::kDrop == path.on_captured(5, big, false, h));
  CHECK(path.counters().dropped(Drop::kOversize) == 1);
  CHECK(CapturePath::CaptureKind::kDrop == path.on_captured(9, p, false, h));
  CHECK(path.counters().dropped(Drop::kUnknownQueue) == 1);
}

TEST_CASE("only RETURNs with our token and for our address are injected") {
  CapturePath path = make_path();
  path.set_address(addr(1));
  std::span<const std::byte> packet;
  Offer offer;
  const Bytes good = ipv6_udp(addr(2), addr(1));
  CHECK(path.on_return(ret(good), packet, offer) == CapturePath::ReturnKind::kInject);
  CHECK(packet.size() == good.size());
  CHECK(path.on_return(ret(good, kToken ^ 1), packet, offer) == CapturePath::ReturnKind::kDrop);
  CHECK(path.counters().dropped(Drop::kBadToken) == 1);
  CHECK(path.on_return(ret(ipv6_udp(addr(2), addr(3))), packet, offer) ==
        CapturePath::ReturnKind::kDrop);
  CHECK(path.counters().dropped(Drop::kNotForUs) == 1);
  CHECK(path.on_return(ret(good, kToken, 0x8001), packet, offer) == CapturePath::ReturnKind::kDrop);
  CHECK(path.counters().dropped(Drop::kUnknownProtocol) == 1);
  Bytes cut = good;
  cut.pop_back();
  CHECK(path.on_return(ret(cut), packet, offer) == CapturePath::ReturnKind::kDrop);
  CHECK(path.counters().dropped(Drop::kBadReturnPacket) == 1);
  Bytes header_only = ret(good);
  header_only.resize(wire::kReturnHeaderLen);
  CHECK(path.on_return(header_only, packet, offer) == CapturePath::ReturnKind::kDrop);
  CHECK(path.counters().dropped(Drop::kMalformed) == 1);
  CHECK(path.counters().returns == 6);
}

}  // namespace dmux::client
