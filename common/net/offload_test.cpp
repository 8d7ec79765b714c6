#include <doctest/doctest.h>

#include <algorithm>
#include <vector>

#include "common/net/checksum.h"
#include "common/net/gro.h"
#include "common/net/mss_clamp.h"
#include "common/net/test_packets.h"
#include "common/net/tso.h"
#include "common/net/virtio_hdr.h"

namespace dmux::net {
namespace {

using testing::Bytes;
using testing::Flow;
using testing::make_packet;

constexpr std::uint8_t kAck = 0x10, kPsh = 0x08, kFin = 0x01, kSyn = 0x02;

VirtioNetHdr tso_hdr(const Flow& f, std::uint16_t gso_size) {
  const bool tcp = f.protocol == kIpProtoTcp;
  return VirtioNetHdr{
      .flags = kVirtioFlagNeedsCsum,
      .gso_type = !tcp ? GsoType::kUdpL4 : (f.ip_version == 4 ? GsoType::kTcpV4 : GsoType::kTcpV6),
      .hdr_len = static_cast<std::uint16_t>(testing::l4_offset(f) + (tcp ? 20 : 8)),
      .gso_size = gso_size,
      .csum_start = static_cast<std::uint16_t>(testing::l4_offset(f)),
      .csum_offset = static_cast<std::uint16_t>(tcp ? 16 : 6)};
}

std::vector<Bytes> segments_of(const SegmentLayout& l, std::span<std::byte> out,
                               std::size_t headroom) {
  std::vector<Bytes> v;
  for (std::size_t i = 0; i < l.count; ++i) {
    const auto p = l.packet(out, headroom, i);
    v.emplace_back(p.begin(), p.end());
  }
  return v;
}

}  // namespace

TEST_CASE("checksum_sum equals RFC 1071's 16-bit big-endian sum, any length, alignment, start") {
  const auto reference = [](std::span<const std::byte> b, std::uint32_t sum) {
    std::uint64_t acc = sum;
    for (std::size_t i = 0; i < b.size(); i += 2) {
      acc += std::to_integer<std::uint32_t>(b[i]) << 8;
      if (i + 1 < b.size()) acc += std::to_integer<std::uint32_t>(b[i + 1]);
    }
    while (acc >> 16) acc = (acc & 0xffff) + (acc >> 16);
    return static_cast<std::uint16_t>(acc);
  };
  Bytes buf(3000);
  std::uint32_t x = 12345;
  const auto next = [&x] { return x = x * 1103515245u + 12345u; };
  for (int i = 0; i < 4000; ++i) {
    for (auto& b : buf) b = static_cast<std::byte>(next() >> 16);
    const std::size_t off = next() % 64, len = next() % 2000;
    if (i % 5 == 0)
      std::fill_n(buf.begin() + static_cast<std::ptrdiff_t>(off), len, std::byte{0xff});
    if (i % 7 == 0) std::fill_n(buf.begin() + static_cast<std::ptrdiff_t>(off), len, std::byte{0});
    const std::uint32_t start = i % 3 == 0 ? next() : next() & 0xffff;
    const std::span<const std::byte> bytes(buf.data() + off, len);
    CAPTURE(len);
    CAPTURE(off);
    REQUIRE(checksum_sum(bytes, start) == reference(bytes, start));
  }
}

TEST_CASE("virtio_net_hdr round trip and refusals") {
  const VirtioNetHdr h{.flags = kVirtioFlagNeedsCsum,
                       .gso_type = GsoType::kTcpV6,
                       .gso_ecn = true,
                       .hdr_len = 60,
                       .gso_size = 1380,
                       .csum_start = 40,
                       .csum_offset = 16};
  std::array<std::byte, kVirtioNetHdrLen> b{};
  REQUIRE(write_virtio_hdr(b, h) == kVirtioNetHdrLen);
  CHECK(b[1] == std::byte{0x84});
  CHECK(b[4] == std::byte{0x64});  // 1380 little-endian
  CHECK(b[5] == std::byte{0x05});
  VirtioNetHdr back;
  REQUIRE(parse_virtio_hdr(b, back) == VirtioStatus::kOk);
  CHECK(back == h);
  CHECK(parse_virtio_hdr(std::span(b).first(9), back) == VirtioStatus::kTruncated);
  b[1] = std::byte{3};  // UFO
  CHECK(parse_virtio_hdr(b, back) == VirtioStatus::kUnsupported);
  b[1] = std::byte{4};
  b[4] = b[5] = std::byte{0};
  CHECK(parse_virtio_hdr(b, back) == VirtioStatus::kMalformed);
  CHECK(write_virtio_hdr(std::span(b).first(9), h) == 0);
}

TEST_CASE("TSO cuts a TCP/IPv6 super-packet into the segments the sender would have sent") {
  const Flow f{};
  const Bytes super = make_packet(f, 4500, 1000, kAck | kPsh | kFin, true);
  constexpr std::size_t kHeadroom = 20;
  std::vector<std::byte> out(8000);
  SegmentLayout l;
  REQUIRE(segment_packet(tso_hdr(f, 1000), super, 0, kHeadroom, out, l) == TsoStatus::kOk);
  REQUIRE(l.count == 5);
  CHECK(l.datagram_len == kHeadroom + 60 + 1000);
  CHECK(l.last_len == kHeadroom + 60 + 500);
  CHECK(l.bytes() == 4 * l.datagram_len + l.last_len);
  const auto segs = segments_of(l, out, kHeadroom);
  for (std::size_t i = 0; i < 5; ++i) {
    const bool last = i == 4;
    const Bytes want =
        make_packet(f, last ? 500 : 1000, static_cast<std::uint32_t>(1000 + i * 1000),
                    last ? kAck | kPsh | kFin : kAck);
    CHECK(segs[i] == want);
  }
  SUBCASE("a smaller limit than gso_size wins") {
    REQUIRE(segment_packet(tso_hdr(f, 1000), super, 60 + 900, 0, out, l) == TsoStatus::kOk);
    CHECK(l.count == 5);
    CHECK(l.datagram_len == 960);
    CHECK(l.last_len == 60 + 900);
  }
  SUBCASE("no room") {
    CHECK(segment_packet(tso_hdr(f, 1000), super, 0, kHeadroom, std::span(out).first(4000), l) ==
          TsoStatus::kNoRoom);
  }
}

TEST_CASE("TSO over IPv4 numbers the ids and finishes both checksums; USO cuts UDP") {
  for (const std::uint8_t proto : {kIpProtoTcp, kIpProtoUdp}) {
    const Flow f{.ip_version = 4, .protocol = proto};
    const Bytes super = make_packet(f, 3000, 5, kAck, true);
    std::vector<std::byte> out(4000);
    SegmentLayout l;
    REQUIRE(segment_packet(tso_hdr(f, 1400), super, 0, 0, out, l) == TsoStatus::kOk);
    REQUIRE(l.count == 3);
    for (std::size_t i = 0; i < 3; ++i) {
      const auto p = l.packet(out, 0, i);
      CHECK(testing::checksums_ok(p));
      CHECK(testing::get16(p, 4) == 0x1234 + i);
      CHECK(testing::get16(p, 2) == p.size());
      if (proto == kIpProtoUdp) CHECK(testing::get16(p, 24) == p.size() - 20);
    }
  }
}

TEST_CASE("a packet that is not GSO is copied, its partial checksum finished") {
  const Flow f{.protocol = kIpProtoUdp};
  const Bytes partial = make_packet(f, 300, 0, 0, true);
  std::vector<std::byte> out(400);
  SegmentLayout l;
  VirtioNetHdr vh = tso_hdr(f, 0);
  vh.gso_type = GsoType::kNone;
  REQUIRE(segment_packet(vh, partial, 0, 4, out, l) == TsoStatus::kOk);
  REQUIRE(l.count == 1);
  const auto p = l.packet(out, 4, 0);
  CHECK(Bytes(p.begin(), p.end()) == make_packet(f, 300, 0, 0, false));
  vh.csum_offset = 400;
  CHECK(segment_packet(vh, partial, 0, 4, out, l) == TsoStatus::kMalformed);
}

TEST_CASE("TSO refuses shapes it does not cut") {
  const Flow f{};
  Bytes super = make_packet(f, 3000, 1, kAck, true);
  std::vector<std::byte> out(8000);
  SegmentLayout l;
  CHECK(segment_packet(tso_hdr(Flow{.ip_version = 4}, 1000), super, 0, 0, out, l) ==
        TsoStatus::kUnsupported);
  CHECK(segment_packet(tso_hdr(f, 1000), std::span(super).first(50), 0, 0, out, l) ==
        TsoStatus::kTruncated);
  super[6] = std::byte{0};  // hop-by-hop options: an extension header
  CHECK(segment_packet(tso_hdr(f, 1000), super, 0, 0, out, l) == TsoStatus::kUnsupported);
  CHECK(segment_packet(tso_hdr(f, 1000), make_packet(f, 100), 50, 0, out, l) ==
        TsoStatus::kMalformed);
}

// What the TUN device would read from each write of the batch: its pieces joined, checked
// against the size the write must return.
std::vector<Bytes> flushed(GroBatch& gro, std::vector<GroWrite>* info = nullptr) {
  std::vector<Bytes> out;
  for (const GroWrite& w : gro.flush()) {
    Bytes& b = out.emplace_back();
    for (const iovec& v : w.pieces) {
      const auto* p = static_cast<const std::byte*>(v.iov_base);
      b.insert(b.end(), p, p + v.iov_len);
    }
    CHECK(b.size() == w.size);
    if (info != nullptr) info->push_back(w);
  }
  return out;
}

TEST_CASE("GRO coalesces consecutive segments of a flow, and TSO gives them back") {
  for (const std::uint8_t version : {std::uint8_t{4}, std::uint8_t{6}}) {
    const Flow f{.ip_version = version};
    std::vector<Bytes> sent;
    for (std::uint32_t i = 0; i < 6; ++i)
      sent.push_back(
          make_packet(f, i == 5 ? 300 : 1200, 1 + i * 1200, i == 5 ? kAck | kPsh : kAck));
    GroBatch gro(GroConfig{});
    for (const auto& p : sent) REQUIRE(gro.add(p));
    std::vector<GroWrite> info;
    const auto writes = flushed(gro, &info);
    REQUIRE(writes.size() == 1);
    CHECK(gro.counters().coalesced == 5);
    std::size_t sent_bytes = 0;
    for (const auto& p : sent) sent_bytes += p.size();
    CHECK(info[0].packets == 6);
    CHECK(info[0].bytes == sent_bytes);
    VirtioNetHdr vh;
    REQUIRE(parse_virtio_hdr(writes[0], vh) == VirtioStatus::kOk);
    CHECK(vh.gso_type == (version == 4 ? GsoType::kTcpV4 : GsoType::kTcpV6));
    CHECK(vh.gso_size == 1200);
    CHECK(vh.needs_csum());
    const auto super = std::span(writes[0]).subspan(kVirtioNetHdrLen);
    CHECK(super.size() == testing::l4_offset(f) + 20 + 5 * 1200 + 300);
    std::vector<std::byte> out(10000);
    SegmentLayout l;
    REQUIRE(segment_packet(vh, super, 0, 0, out, l) == TsoStatus::kOk);
    const auto back = segments_of(l, out, 0);
    REQUIRE(back.size() == sent.size());
    for (std::size_t i = 0; i < sent.size(); ++i) {
      if (version == 4) {  // TSO numbers the ids from the first
        CHECK(testing::checksums_ok(back[i]));
        CHECK(std::equal(back[i].begin() + 20, back[i].end(), sent[i].begin() + 20));
      } else {
        CHECK(back[i] == sent[i]);
      }
    }
  }
}

// Packets that live as long as the test (add() references them until flush()).
struct Keep {
  std::vector<Bytes> kept;
  std::span<const std::byte> operator()(const Flow& f, std::size_t len, std::uint32_t seq = 1,
                                        std::uint8_t flags = kAck) {
    return kept.emplace_back(make_packet(f, len, seq, flags));
  }
};

TEST_CASE("GRO keeps flows apart and ends a super-packet where it must") {
  const Flow a{}, b{.sport = 40001};
  GroBatch gro(GroConfig{});
  Keep packet;
  SUBCASE("two flows interleaved: one write each, in order of first arrival") {
    for (std::uint32_t i = 0; i < 3; ++i) {
      REQUIRE(gro.add(packet(a, 1000, 1 + i * 1000)));
      REQUIRE(gro.add(packet(b, 1000, 1 + i * 1000)));
    }
    const auto w = flushed(gro);
    REQUIRE(w.size() == 2);
    CHECK(testing::get16(std::span(w[0]).subspan(kVirtioNetHdrLen), 40) == 40000);
    CHECK(testing::get16(std::span(w[1]).subspan(kVirtioNetHdrLen), 40) == 40001);
  }
  SUBCASE("a gap, a PSH, a shorter segment and a SYN end a super-packet") {
    const auto p1 = packet(a, 1000, 1), gap = packet(a, 1000, 5001);
    REQUIRE(gro.add(p1));
    REQUIRE(gro.add(gap));
    REQUIRE(gro.add(packet(a, 1000, 6001, kAck | kPsh)));
    REQUIRE(gro.add(packet(a, 1000, 7001)));
    REQUIRE(gro.add(packet(a, 500, 8001)));
    REQUIRE(gro.add(packet(a, 500, 8501)));
    REQUIRE(gro.add(packet(b, 0, 1, kSyn)));
    const auto w = flushed(gro);
    // p1 | gap+psh | 7001+8001(short) | 8501 | syn
    REQUIRE(w.size() == 5);
    VirtioNetHdr vh;
    REQUIRE(parse_virtio_hdr(w[0], vh) == VirtioStatus::kOk);
    CHECK(vh == VirtioNetHdr{});
    CHECK(std::equal(w[0].begin() + kVirtioNetHdrLen, w[0].end(), p1.begin(), p1.end()));
    REQUIRE(parse_virtio_hdr(w[1], vh) == VirtioStatus::kOk);
    CHECK(vh.gso_type == GsoType::kTcpV6);
    CHECK(w[2].size() == kVirtioNetHdrLen + 60 + 1500);
    CHECK(w[3].size() == kVirtioNetHdrLen + 60 + 500);
  }
}

TEST_CASE("GRO coalesces UDP only with USO, and stays within its limits") {
  const Flow a{};
  GroBatch gro(GroConfig{});
  Keep packet;
  SUBCASE("UDP only with coalesce_udp, and only equal sizes") {
    const Flow u{.protocol = kIpProtoUdp};
    for (int i = 0; i < 3; ++i) REQUIRE(gro.add(packet(u, 1000)));
    CHECK(flushed(gro).size() == 3);
    GroBatch udp(GroConfig{.coalesce_udp = true});
    for (int i = 0; i < 3; ++i) REQUIRE(udp.add(packet(u, 1000)));
    REQUIRE(udp.add(packet(u, 400)));
    REQUIRE(udp.add(packet(u, 1000)));
    const auto w = flushed(udp);
    REQUIRE(w.size() == 2);
    VirtioNetHdr vh;
    REQUIRE(parse_virtio_hdr(w[0], vh) == VirtioStatus::kOk);
    CHECK(vh.gso_type == GsoType::kUdpL4);
    CHECK(testing::get16(std::span(w[0]).subspan(kVirtioNetHdrLen), 44) == 8 + 3400);
  }
  SUBCASE("limits: full batch, empty and oversized packets") {
    GroBatch small(GroConfig{.max_packets = 2, .max_segments = 2});
    CHECK_FALSE(small.add({}));
    REQUIRE(small.add(packet(a, 100, 1)));
    REQUIRE(small.add(packet(a, 100, 101)));
    CHECK_FALSE(small.add(packet(a, 100, 201)));
    CHECK(flushed(small).size() == 1);
    CHECK(small.empty());
    const Bytes junk(100, std::byte{0x45});
    REQUIRE(small.add(junk));
    CHECK(flushed(small).size() == 1);
  }
}

}  // namespace dmux::net

namespace dmux::net {

TEST_CASE("MSS clamping lowers a SYN's MSS option and keeps the checksum right") {
  for (const std::uint8_t version : {std::uint8_t{4}, std::uint8_t{6}}) {
    const testing::Flow f{.ip_version = version};
    // SYN with options NOP, NOP, MSS 1460, window scale: header 28 bytes.
    testing::Bytes p = testing::make_packet(f, 8, 1, 0x02);
    const std::size_t l4 = testing::l4_offset(f);
    p[l4 + 12] = std::byte{0x70};
    const std::uint8_t opts[] = {1, 1, 2, 4, 0x05, 0xb4, 3, 3};
    for (std::size_t i = 0; i < 8; ++i) p[l4 + 20 + i] = static_cast<std::byte>(opts[i]);
    testing::put16(p, l4 + 16, 0);
    const std::size_t alen = version == 4 ? 4 : 16, aat = version == 4 ? 12 : 8;
    store_checksum(std::span(p).subspan(l4 + 16, 2),
                   checksum_sum(std::span(p).subspan(l4),
                                pseudo_header_sum(std::span(p).subspan(aat, alen),
                                                  std::span(p).subspan(aat + alen, alen),
                                                  kIpProtoTcp, p.size() - l4)));
    REQUIRE(testing::checksums_ok(p));
    CHECK(clamp_tcp_mss(p, 1400));
    CHECK(testing::get16(p, l4 + 24) == (version == 4 ? 1360 : 1340));
    CHECK(testing::checksums_ok(p));
    CHECK_FALSE(clamp_tcp_mss(p, 1400));  // already fits
    testing::Bytes ack = testing::make_packet(f, 100, 1, 0x10);
    CHECK_FALSE(clamp_tcp_mss(ack, 500));
  }
}

}  // namespace dmux::net
