#include "mesh/local_records.h"

#include <doctest/doctest.h>

#include "mesh/test_records.h"

using namespace dmux;
using namespace dmux::mesh;
namespace mw = dmux::wire::mesh;

namespace {

constexpr std::uint32_t kSelf = 0xc6120001;

LocalRouter local(const testing::TestProvider& p, std::uint32_t addr) {
  return LocalRouter{p.record(addr, kSelf),
                     std::make_shared<const std::vector<std::byte>>(p.cert_der)};
}

// Frame types in `bytes`, in order.
std::vector<std::uint8_t> frame_types(const std::vector<std::byte>& bytes) {
  std::vector<std::uint8_t> out;
  std::size_t pos = 0;
  while (pos < bytes.size()) {
    std::uint8_t type = 0;
    std::uint32_t len = 0;
    REQUIRE(mw::parse_header(std::span(bytes).subspan(pos), type, len) == mw::Status::kOk);
    out.push_back(type);
    pos += mw::kFrameHeaderLen + len;
  }
  return out;
}

}  // namespace

TEST_CASE("changes are numbered; an unchanged set announces nothing") {
  testing::TestProvider p;
  LocalRecords lr(wire::GatewayId{kSelf}, 100);
  auto c = lr.set({local(p, 1), local(p, 2)});
  REQUIRE(c.size() == 2);
  CHECK(c[0].version.seq == 2);
  CHECK(c[1].version.seq == 3);
  CHECK(lr.set({local(p, 1), local(p, 2)}).empty());
  auto moved = local(p, 2);
  moved.record.router_rtt_us = 5000;
  c = lr.set({local(p, 1), moved});
  REQUIRE(c.size() == 1);
  CHECK(c[0].present);
  c = lr.remove(moved.record.id);
  REQUIRE(c.size() == 1);
  CHECK_FALSE(c[0].present);
  CHECK(lr.version().seq == 5);
}

TEST_CASE("a link gets each certificate once, before the first record that needs it") {
  testing::TestProvider p;
  LocalRecords lr(wire::GatewayId{kSelf}, 100);
  auto c = lr.set({local(p, 1), local(p, 2)});
  SentCertificates sent;
  std::vector<std::byte> out;
  lr.append_changes(c, sent, out);
  CHECK(frame_types(out) == std::vector<std::uint8_t>{22, 18, 18});
  out.clear();
  lr.append_full_state(sent, out);
  CHECK(frame_types(out) == std::vector<std::uint8_t>{17});
  SentCertificates fresh_link;
  out.clear();
  lr.append_full_state(fresh_link, out);
  CHECK(frame_types(out) == std::vector<std::uint8_t>{22, 17});
}

TEST_CASE("a large full state goes in parts of at most 4096 records, all of one version") {
  testing::TestProvider p;
  LocalRecords lr(wire::GatewayId{kSelf}, 100);
  std::vector<LocalRouter> many;
  for (std::uint32_t i = 1; i <= 5000; ++i) many.push_back(local(p, i));
  lr.set(many);
  SentCertificates sent;
  std::vector<std::byte> out;
  lr.append_full_state(sent, out);
  CHECK(frame_types(out) == std::vector<std::uint8_t>{22, 17, 17});
  std::size_t pos = mw::kFrameHeaderLen + p.cert_der.size();
  std::size_t total = 0;
  for (int part = 0; part < 2; ++part) {
    std::uint8_t type = 0;
    std::uint32_t len = 0;
    REQUIRE(mw::parse_header(std::span(out).subspan(pos), type, len) == mw::Status::kOk);
    mw::FullState fs;
    REQUIRE(mw::parse_full_state(std::span(out).subspan(pos + mw::kFrameHeaderLen, len), fs) ==
            mw::Status::kOk);
    CHECK(fs.part == part);
    CHECK(fs.parts == 2);
    CHECK(fs.version.seq == lr.version().seq);
    total += fs.routers.size();
    pos += mw::kFrameHeaderLen + len;
  }
  CHECK(total == 5000);
}
