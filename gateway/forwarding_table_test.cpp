#include "gateway/forwarding_table.h"

#include <doctest/doctest.h>

#include "common/wire/shim.h"

using namespace dmux;
using namespace dmux::gateway;

namespace {
RouterEntry router(std::uint16_t proto, std::uint32_t provider, const char* addr) {
  return RouterEntry{proto, provider, *net::parse_endpoint(addr), RouterOrigin::kStatic};
}
}  // namespace

TEST_CASE("provider-specific lookups only return that provider's routers") {
  ForwardingTable t({router(1, 7, "198.18.2.1:5000"), router(1, 7, "198.18.2.2:5000"),
                     router(1, 9, "198.18.3.1:5000")});
  for (std::uint32_t c = 0; c < 500; ++c) {
    net::Endpoint out;
    REQUIRE(t.select(1, 9, 0xc6130000u + c, out) == SelectStatus::kOk);
    CHECK(out == *net::parse_endpoint("198.18.3.1:5000"));
    REQUIRE(t.select(1, 7, 0xc6130000u + c, out) == SelectStatus::kOk);
    CHECK((out.addr >> 8) == 0xc61202u);
  }
}

TEST_CASE("'any provider' spreads over every router of the protocol") {
  ForwardingTable t({router(1, 7, "198.18.2.1:5000"), router(1, 9, "198.18.3.1:5000"),
                     router(2, 9, "198.18.3.1:6000")});
  int seven = 0, nine = 0;
  for (std::uint32_t c = 0; c < 1000; ++c) {
    net::Endpoint out;
    REQUIRE(t.select(1, wire::kAnyProvider, 0xc6130000u + c, out) == SelectStatus::kOk);
    CHECK(out.port == 5000);
    (out.addr == 0xc6120201u ? seven : nine)++;
  }
  CHECK(seven > 300);
  CHECK(nine > 300);
}

TEST_CASE("unknown protocol and missing provider are told apart") {
  ForwardingTable t({router(1, 7, "198.18.2.1:5000")});
  net::Endpoint out;
  CHECK(t.select(2, 0, 1, out) == SelectStatus::kUnknownProtocol);
  CHECK(t.select(2, 7, 1, out) == SelectStatus::kUnknownProtocol);
  CHECK(t.select(1, 8, 1, out) == SelectStatus::kNoRouter);
  CHECK(ForwardingTable().select(1, 0, 1, out) == SelectStatus::kUnknownProtocol);
}

TEST_CASE("duplicates merge and routers() is sorted") {
  ForwardingTable t({router(2, 9, "198.18.3.1:6000"), router(1, 7, "198.18.2.1:5000"),
                     router(1, 7, "198.18.2.1:5000")});
  REQUIRE(t.size() == 2);
  CHECK(t.routers()[0].proto_id == 1);
  CHECK(t.routers()[1].proto_id == 2);
}
