#include "gateway/dataplane/forwarding_table.h"

#include <doctest/doctest.h>

#include <array>

#include "common/wire/shim.h"
#include "gateway/dataplane/test_routers.h"

using namespace dmux;
using namespace dmux::gateway;
using testing::keyed_router;

namespace {
RouterEntry router(std::uint16_t proto, std::uint32_t provider, const char* addr) {
  return keyed_router(proto, provider, addr);
}

RouterEntry unkeyed(std::uint16_t proto, std::uint32_t provider, const char* addr) {
  RouterEntry r = keyed_router(proto, provider, addr);
  r.key = nullptr;
  return r;
}
}  // namespace

TEST_CASE("provider-specific lookups only return that provider's routers") {
  ForwardingTable t({router(1, 7, "198.18.2.1:5000"), router(1, 7, "198.18.2.2:5000"),
                     router(1, 9, "198.18.3.1:5000")});
  for (std::uint32_t c = 0; c < 500; ++c) {
    RouterTarget out;
    REQUIRE(t.select(wire::ProtoId{1}, wire::ProviderId{9}, 0xc6130000u + c, out) ==
            SelectStatus::kOk);
    CHECK(out.address == *net::parse_endpoint("198.18.3.1:5000"));
    REQUIRE(t.select(wire::ProtoId{1}, wire::ProviderId{7}, 0xc6130000u + c, out) ==
            SelectStatus::kOk);
    CHECK((out.address.addr >> 8) == 0xc61202u);
  }
}

TEST_CASE("'any provider' spreads over every router of the protocol") {
  ForwardingTable t({router(1, 7, "198.18.2.1:5000"), router(1, 9, "198.18.3.1:5000"),
                     router(2, 9, "198.18.3.1:6000")});
  int seven = 0, nine = 0;
  for (std::uint32_t c = 0; c < 1000; ++c) {
    RouterTarget out;
    REQUIRE(t.select(wire::ProtoId{1}, wire::kAnyProvider, 0xc6130000u + c, out) ==
            SelectStatus::kOk);
    CHECK(out.address.port == 5000);
    (out.address.addr == 0xc6120201u ? seven : nine)++;
  }
  CHECK(seven > 300);
  CHECK(nine > 300);
}

TEST_CASE("unknown protocol and missing provider are told apart") {
  ForwardingTable t({router(1, 7, "198.18.2.1:5000")});
  RouterTarget out;
  CHECK(t.select(wire::ProtoId{2}, wire::ProviderId{0}, 1, out) == SelectStatus::kUnknownProtocol);
  CHECK(t.select(wire::ProtoId{2}, wire::ProviderId{7}, 1, out) == SelectStatus::kUnknownProtocol);
  CHECK(t.select(wire::ProtoId{1}, wire::ProviderId{8}, 1, out) == SelectStatus::kNoRouter);
  CHECK(ForwardingTable().select(wire::ProtoId{1}, wire::ProviderId{0}, 1, out) ==
        SelectStatus::kUnknownProtocol);
}

TEST_CASE("duplicates merge and routers() is sorted") {
  ForwardingTable t({router(2, 9, "198.18.3.1:6000"), router(1, 7, "198.18.2.1:5000"),
                     router(1, 7, "198.18.2.1:5000")});
  REQUIRE(t.size() == 2);
  CHECK(t.routers()[0].id.proto == wire::ProtoId{1});
  CHECK(t.routers()[1].id.proto == wire::ProtoId{2});
}

TEST_CASE("the chosen router comes with its key id and key, which the table keeps alive") {
  auto key = testing::tunnel_key(7);
  const crypto::TunnelKey* raw = key.get();
  std::vector<RouterEntry> rs = {
      keyed_router(1, 7, {0xc6120201u, 5000}, RouterOrigin::kRegistered, std::move(key), 42)};
  ForwardingTable t(std::move(rs));
  rs.clear();
  RouterTarget out;
  REQUIRE(t.select(wire::ProtoId{1}, wire::ProviderId{7}, 1, out) == SelectStatus::kOk);
  CHECK(out.key_id == 42);
  CHECK(out.key == raw);
  const std::array<std::byte, 4> msg{};
  CHECK(out.key->tag(1, 2, msg) == crypto::TunnelKey(testing::key_bytes(7)).tag(1, 2, msg));
}

TEST_CASE("a router without a key is listed and counted but never selected") {
  ForwardingTable t({unkeyed(1, 7, "198.18.2.1:5000"), router(1, 7, "198.18.2.2:5000"),
                     unkeyed(2, 9, "198.18.3.1:6000")});
  CHECK(t.size() == 3);
  CHECK(t.unkeyed() == 2);
  for (std::uint32_t c = 0; c < 200; ++c) {
    RouterTarget out;
    REQUIRE(t.select(wire::ProtoId{1}, wire::ProviderId{0}, c * 7919, out) == SelectStatus::kOk);
    CHECK(out.address == *net::parse_endpoint("198.18.2.2:5000"));
    REQUIRE(out.key != nullptr);
  }
  RouterTarget out;
  CHECK(t.select(wire::ProtoId{2}, wire::ProviderId{9}, 1, out) == SelectStatus::kUnknownProtocol);
}

TEST_CASE("explicit groups leave unkeyed members out, and a group of none has no router") {
  const auto a = router(1, 7, "198.18.2.1:5000");
  const auto b = unkeyed(1, 7, "198.18.2.2:5000");
  const auto c = unkeyed(1, 9, "198.18.3.1:5000");
  using wire::ProtoId, wire::ProviderId;
  ForwardingTable t({a, b, c}, {{ProtoId{1}, ProviderId{0}, {a, b}},
                                {ProtoId{1}, ProviderId{7}, {a, b}},
                                {ProtoId{1}, ProviderId{9}, {c}}});
  CHECK(t.unkeyed() == 2);
  for (std::uint32_t client = 0; client < 100; ++client) {
    RouterTarget out;
    REQUIRE(t.select(wire::ProtoId{1}, wire::ProviderId{0}, client * 31, out) == SelectStatus::kOk);
    CHECK(out.address == a.id.address);
  }
  RouterTarget out;
  CHECK(t.select(wire::ProtoId{1}, wire::ProviderId{9}, 1, out) == SelectStatus::kNoRouter);
}
