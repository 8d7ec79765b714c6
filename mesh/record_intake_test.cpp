#include "mesh/record_intake.h"

#include <doctest/doctest.h>

#include <ctime>

#include "mesh/test_records.h"

using namespace dmux;
using namespace dmux::mesh;
using namespace std::chrono_literals;
namespace mw = dmux::wire::mesh;

namespace {

constexpr std::uint32_t kOrigin = 0xc6120002;

struct Fixture {
  testing::TestProvider provider;
  RemoteRouters remote{RemoteRoutersConfig{10s, 100, 50}};
  SignatureCache signatures{1000};
  RevokedSerials revoked;
  RecordIntake intake{remote, signatures, revoked};
  CertificateStore certs{16};

  Fixture() { REQUIRE(certs.add(provider.cert_der, provider.verifier, std::time(nullptr))); }

  mw::FullState full_state(std::vector<mw::Router> routers, std::uint64_t seq = 1,
                           std::uint16_t part = 0, std::uint16_t parts = 1) {
    return mw::FullState{wire::GatewayId{kOrigin}, {100, seq}, part, parts, std::move(routers)};
  }
  RemoteChanges run_all() {
    return intake.run([] { return false; });
  }
};

}  // namespace

TEST_CASE("a provider-signed record is accepted; every forgery is refused by reason") {
  Fixture f;
  std::vector<mw::Router> records = {f.provider.record(0xc6120201, kOrigin)};
  auto forged = f.provider.record(0xc6120202, kOrigin);
  forged.proof.signature[5] ^= std::byte{1};
  records.push_back(forged);
  auto moved = f.provider.record(0xc6120203, kOrigin);
  moved.id.address.addr = 0xc6120299;  // a lie about where the router is: the signature breaks
  records.push_back(moved);
  records.push_back(f.provider.record(0xc6120204, 0xc6120009));  // registered elsewhere
  records.push_back(f.provider.record(0xc6120205, kOrigin, 2));  // protocol not in scope
  auto unknown_cert = f.provider.record(0xc6120206, kOrigin);
  unknown_cert.proof.cert_hash[0] ^= std::byte{1};
  records.push_back(unknown_cert);
  auto rtt_lie = f.provider.record(0xc6120207, kOrigin);
  rtt_lie.proof.signed_rtt_us = 1;  // the signed RTT cannot be lowered either
  records.push_back(rtt_lie);

  f.intake.on_full_state_part(kOrigin, f.full_state(records), f.certs);
  const auto changes = f.run_all();
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].id.address.addr == 0xc6120201);
  CHECK(changes[0].kind == RemoteChange::Kind::kAdded);
  const auto& c = f.intake.counters();
  CHECK(c.records_refused[static_cast<std::size_t>(RecordVerdict::kSignature)] == 3);
  CHECK(c.records_refused[static_cast<std::size_t>(RecordVerdict::kWrongGateway)] == 1);
  CHECK(c.records_refused[static_cast<std::size_t>(RecordVerdict::kScope)] == 1);
  CHECK(c.records_refused[static_cast<std::size_t>(RecordVerdict::kCertificate)] == 1);
  // A router's own RTT is the origin's figure but never below what its agent signed.
  const auto routers = f.remote.routers();
  REQUIRE(routers.size() == 1);
  CHECK(routers[0]->effective_rtt_us() == 400);
  CHECK(routers[0]->key != nullptr);
}

TEST_CASE("a FULL_STATE applies once all its parts arrived; another version discards them") {
  Fixture f;
  f.intake.on_full_state_part(kOrigin, f.full_state({f.provider.record(1, kOrigin)}, 5, 0, 2),
                              f.certs);
  CHECK_FALSE(f.intake.pending());
  f.intake.on_full_state_part(kOrigin, f.full_state({f.provider.record(3, kOrigin)}, 6, 0, 2),
                              f.certs);
  CHECK(f.intake.counters().parts_discarded == 1);
  f.intake.on_full_state_part(kOrigin, f.full_state({f.provider.record(4, kOrigin)}, 6, 1, 2),
                              f.certs);
  CHECK(f.intake.pending());
  CHECK(f.run_all().size() == 2);
  CHECK(f.remote.count(kOrigin) == 2);
}

TEST_CASE("verification runs in slices, and applies messages in order") {
  Fixture f;
  std::vector<mw::Router> many;
  for (std::uint32_t i = 1; i <= 20; ++i) many.push_back(f.provider.record(i, kOrigin));
  f.intake.on_full_state_part(kOrigin, f.full_state(many, 1), f.certs);
  mw::Update remove{wire::GatewayId{kOrigin}, {100, 2}, false, f.provider.record(5, kOrigin)};
  f.intake.on_update(kOrigin, remove, f.certs);
  int budget = 0;
  auto out_of_time = [&budget] { return ++budget % 8 == 0; };  // a few checks per slice
  std::size_t slices = 0;
  RemoteChanges all;
  while (f.intake.pending()) {
    auto c = f.intake.run(out_of_time);
    all.insert(all.end(), c.begin(), c.end());
    ++slices;
  }
  CHECK(slices > 2);
  CHECK(f.remote.count(kOrigin) == 19);  // the removal came after the full state
  CHECK(all.back().kind == RemoteChange::Kind::kRemoved);
  CHECK(all.back().id.address.addr == 5);
}

TEST_CASE("stale messages are dropped unverified; re-announced records hit the cache") {
  Fixture f;
  f.intake.on_full_state_part(kOrigin, f.full_state({f.provider.record(1, kOrigin)}, 10), f.certs);
  f.run_all();
  const auto verified = f.intake.counters().records_verified;
  mw::Update old{wire::GatewayId{kOrigin}, {100, 9}, true, f.provider.record(2, kOrigin)};
  f.intake.on_update(kOrigin, old, f.certs);
  CHECK(f.intake.counters().stale == 1);
  CHECK_FALSE(f.intake.pending());
  // The same record again with a new RTT from the origin: its signature is not checked again.
  auto again = f.provider.record(1, kOrigin);
  again.router_rtt_us = 9000;
  f.intake.on_update(kOrigin, mw::Update{wire::GatewayId{kOrigin}, {100, 11}, true, again},
                     f.certs);
  const auto changes = f.run_all();
  CHECK(f.intake.counters().records_verified == verified + 1);
  CHECK(f.signatures.size() == 1);
  REQUIRE(changes.size() == 1);
  CHECK(changes[0].kind == RemoteChange::Kind::kReplaced);
  CHECK(changes[0].router->effective_rtt_us() == 9000);
}

TEST_CASE("caps per origin and per provider hold, and are counted") {
  Fixture f;
  RemoteRouters small(RemoteRoutersConfig{10s, 5, 3});
  RecordIntake intake(small, f.signatures, f.revoked);
  std::vector<mw::Router> many;
  for (std::uint32_t i = 1; i <= 8; ++i) many.push_back(f.provider.record(i, kOrigin));
  intake.on_full_state_part(kOrigin, f.full_state(many), f.certs);
  intake.run([] { return false; });
  CHECK(small.count(kOrigin) == 3);  // the provider's cap is the tighter one here
  // 3 over the origin's cap of 5, refused unverified; 2 more over the provider's cap of 3.
  CHECK(intake.counters().records_verified == 5);
  CHECK(intake.counters().records_refused[static_cast<std::size_t>(RecordVerdict::kCap)] == 5);
}

TEST_CASE("a certificate store refuses what its CA did not sign and holds a bounded number") {
  testing::TestProvider good;
  testing::TestProvider other;  // another CA
  CertificateStore store(2);
  CHECK(store.add(other.cert_der, good.verifier, std::time(nullptr)));
  const auto e = store.find(crypto::sha256(other.cert_der));
  REQUIRE(e != nullptr);
  CHECK(e->verdict == crypto::VerifyResult::kUntrusted);
  CHECK(store.add(good.cert_der, good.verifier, std::time(nullptr)));
  CHECK(store.add(good.cert_der, good.verifier, std::time(nullptr)));  // known: no growth
  testing::TestProvider third;
  CHECK_FALSE(store.add(third.cert_der, good.verifier, std::time(nullptr)));
}

TEST_CASE("records whose certificate is revoked are refused") {
  Fixture f;
  f.revoked.insert(crypto::Certificate::from_der(f.provider.cert_der).info().serial);
  f.intake.on_full_state_part(kOrigin, f.full_state({f.provider.record(1, kOrigin)}), f.certs);
  CHECK(f.run_all().empty());
  CHECK(
      f.intake.counters().records_refused[static_cast<std::size_t>(RecordVerdict::kCertificate)] ==
      1);
}
