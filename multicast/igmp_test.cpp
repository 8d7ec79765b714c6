#include "multicast/igmp.h"

#include <doctest/doctest.h>

#include <array>
#include <random>

#include "multicast/ipv4_packet.h"
#include "multicast/test_packets.h"

namespace dmux::multicast {
namespace {

using test::Bytes;
constexpr std::uint32_t kG1 = 0xef010101, kG2 = 0xef020202;

IgmpStatus parse(const Bytes& m, std::array<GroupChange, 256>& out, std::size_t& n) {
  return parse_igmp(m, out, n);
}

TEST_CASE("IGMPv2 report and leave, IGMPv1 report") {
  std::array<GroupChange, 256> out{};
  std::size_t n = 0;
  REQUIRE(parse(test::v2_report(kG1), out, n) == IgmpStatus::kOk);
  REQUIRE(n == 1);
  CHECK(out[0].group == kG1);
  CHECK(out[0].join);
  REQUIRE(parse(test::v2_leave(kG1), out, n) == IgmpStatus::kOk);
  CHECK_FALSE(out[0].join);
  REQUIRE(parse(test::igmp(0x12, test::u32s({kG2})), out, n) == IgmpStatus::kOk);
  CHECK((out[0].group == kG2 && out[0].join));
}

TEST_CASE("IGMPv3 records map to joins and leaves") {
  std::array<GroupChange, 256> out{};
  std::size_t n = 0;
  const Bytes m = test::v3_report({{4, kG1},       // CHANGE_TO_EXCLUDE {}: join
                                   {3, kG2},       // CHANGE_TO_INCLUDE {}: leave
                                   {1, kG1, 2},    // MODE_IS_INCLUDE {S1,S2}: join
                                   {2, kG2, 1},    // MODE_IS_EXCLUDE {S1}: join
                                   {5, kG1, 0},    // ALLOW {}: nothing
                                   {5, kG2, 1},    // ALLOW {S}: join
                                   {6, kG1, 1}});  // BLOCK: nothing
  REQUIRE(parse(m, out, n) == IgmpStatus::kOk);
  REQUIRE(n == 5);
  CHECK((out[0].group == kG1 && out[0].join));
  CHECK((out[1].group == kG2 && !out[1].join));
  CHECK((out[2].group == kG1 && out[2].join));
  CHECK((out[3].group == kG2 && out[3].join));
  CHECK((out[4].group == kG2 && out[4].join));
}

TEST_CASE("queries and unknown types are ignored, not errors") {
  std::array<GroupChange, 256> out{};
  std::size_t n = 0;
  CHECK(parse(test::igmp(0x11, test::u32s({0})), out, n) == IgmpStatus::kIgnored);
  CHECK(parse(test::igmp(0x42, test::u32s({0})), out, n) == IgmpStatus::kIgnored);
  CHECK(n == 0);
}

TEST_CASE("truncated, malformed and garbage IGMP is refused without reading past the end") {
  std::array<GroupChange, 256> out{};
  std::size_t n = 0;
  const Bytes v3 = test::v3_report({{4, kG1, 3}, {3, kG2}});
  for (std::size_t len = 0; len < v3.size(); ++len) {
    const Bytes prefix(v3.begin(), v3.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK(parse(prefix, out, n) != IgmpStatus::kOk);
  }
  Bytes bad_sum = test::v2_report(kG1);
  bad_sum[7] ^= std::byte{1};
  CHECK(parse(bad_sum, out, n) == IgmpStatus::kMalformed);
  // A record count larger than the bytes can hold.
  Bytes lying = test::v3_report({{4, kG1}});
  lying[7] = std::byte{200};
  test::put_sum(lying, 0, lying.size(), 2);
  CHECK(parse(lying, out, n) == IgmpStatus::kTruncated);
  // Bytes after the last record; an unknown record type.
  Bytes trailing = test::v3_report({{4, kG1}});
  trailing.insert(trailing.end(), 4, std::byte{0});
  test::put_sum(trailing, 0, trailing.size(), 2);
  CHECK(parse(trailing, out, n) == IgmpStatus::kMalformed);
  CHECK(parse(test::v3_report({{9, kG1}}), out, n) == IgmpStatus::kMalformed);
  // More records than the caller has room for.
  std::array<GroupChange, 1> one{};
  CHECK(parse_igmp(test::v3_report({{4, kG1}, {4, kG2}}), one, n) == IgmpStatus::kMalformed);
  std::mt19937 rng(7);
  for (int i = 0; i < 20000; ++i) {
    Bytes junk(rng() % 64);
    for (auto& b : junk) b = static_cast<std::byte>(rng());
    if (!junk.empty()) junk[0] = std::byte{0x22};
    (void)parse(junk, out, n);
    CHECK(n <= out.size());
  }
}

TEST_CASE("the general query is a valid IPv4 packet with a valid IGMPv3 query") {
  std::array<std::byte, kQueryPacketLen> q{};
  REQUIRE(write_general_query(q, 0xc6120202, 100, 125) == kQueryPacketLen);
  Ipv4View ip;
  REQUIRE(parse_ipv4(q, ip));
  CHECK(ip.dst == 0xe0000001);
  CHECK(ip.src == 0xc6120202);
  CHECK(ip.protocol == kIpProtoIgmp);
  REQUIRE(ip.payload.size() == 12);
  CHECK(std::to_integer<int>(ip.payload[0]) == 0x11);
  CHECK(std::to_integer<int>(ip.payload[1]) == 100);
  CHECK(std::to_integer<int>(ip.payload[9]) == 125);
  CHECK(wire::checksum_finish(wire::checksum_add(ip.payload)) == 0);
  std::array<std::byte, 10> small{};
  CHECK(write_general_query(small, 1, 1, 1) == 0);
}

TEST_CASE("IPv4 checks") {
  const Bytes p = test::ipv4(0xc6120b02, kG1, 17, Bytes(12, std::byte{1}));
  Ipv4View v;
  REQUIRE(parse_ipv4(p, v));
  CHECK(v.payload.size() == 12);
  CHECK_FALSE(v.fragment);
  Bytes bad = p;
  bad[8] ^= std::byte{1};  // header checksum no longer right
  CHECK_FALSE(parse_ipv4(bad, v));
  CHECK_FALSE(parse_ipv4(std::span(p).first(p.size() - 1), v));
  CHECK(is_routable_group(kG1));
  CHECK_FALSE(is_routable_group(0xe00000fb));  // 224.0.0.251, link-local
  CHECK_FALSE(is_routable_group(0xc6120b02));
}

}  // namespace
}  // namespace dmux::multicast
