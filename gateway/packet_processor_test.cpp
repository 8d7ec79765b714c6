#include "gateway/packet_processor.h"

#include <doctest/doctest.h>

#include <array>

#include "common/wire/test_bytes.h"

using namespace dmux;
using namespace dmux::gateway;
using wire::testing::hex;

namespace {
struct Fixture {
  ForwardingTable table{
      {RouterEntry{1, 7, *net::parse_endpoint("198.18.2.2:5000"), RouterOrigin::kStatic}}};
  ProcessorContext ctx{&table, 0xc6120001u};
  std::array<std::byte, wire::kTunnelHeaderLen> hdr{};
  ForwardAction action;
  DropReason drop = DropReason::kCount_;
  std::uint16_t proto = 0;
  net::Endpoint client{0xc6120102u, 40000};

  bool run(const std::vector<std::byte>& d) {
    return process_datagram(d, client, ctx, hdr, action, drop, proto);
  }
};
}  // namespace

TEST_CASE("a valid DATA datagram becomes the documented TUNNEL (spec vector 2)") {
  Fixture f;
  const auto data = hex("01 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60 00 00 00");
  REQUIRE(f.run(data));
  CHECK(f.action.router == *net::parse_endpoint("198.18.2.2:5000"));
  CHECK(f.action.header_len == wire::kTunnelHeaderLen);
  const auto want =
      hex("01 02 1c 00 00 01 9c 40 00 00 00 00 c6 12 01 02 c6 12 00 01 01 02 03 04 05 06 07 08");
  CHECK(std::vector<std::byte>(f.hdr.begin(), f.hdr.end()) == want);
  CHECK(f.action.payload.size() == 4);
  CHECK(f.action.payload.data() == data.data() + 20);  // zero copy
}

TEST_CASE("each kind of bad datagram is dropped with its own reason") {
  struct Case {
    const char* bytes;
    DropReason want;
  };
  const Case cases[] = {
      {"01 01 14", DropReason::kTruncated},
      {"01 01 10 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60", DropReason::kMalformed},
      {"07 01 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnsupportedVersion},
      {"01 03 14 00 00 01 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnexpectedType},
      {"01 01 14 00 00 02 00 00 00 00 00 00 01 02 03 04 05 06 07 08 60",
       DropReason::kUnknownProtocol},
      {"01 01 14 00 00 01 00 00 00 00 00 08 01 02 03 04 05 06 07 08 60", DropReason::kNoRouter},
  };
  for (const auto& c : cases) {
    CAPTURE(c.bytes);
    Fixture f;
    CHECK_FALSE(f.run(hex(c.bytes)));
    CHECK(f.drop == c.want);
  }
}
