// CertVerifier's caches (refused certificates are remembered too), revocation by serial number,
// and the registration session keys of docs/protocol.md 9.3 against the spec's vector R4.
#include <doctest/doctest.h>

#include <string>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/crypto/session_key.h"

namespace dmux::crypto {
namespace {

struct Pki {
  SigningKey ca_key = SigningKey::generate();
  Certificate ca = make_ca(ca_key, "verifier test CA", 3650);

  Certificate provider(std::int64_t not_before_offset_s = -60, std::int64_t valid_s = 3600) {
    IssueRequest r;
    r.info.role = Role::kProvider;
    r.info.provider_id = 7;
    r.info.protocols = {1};
    r.info.common_name = "provider-7";
    r.subject_key = SigningKey::generate().public_key();
    r.not_before_offset_s = not_before_offset_s;
    r.not_after_offset_s = not_before_offset_s + valid_s;
    return issue(ca, ca_key, r);
  }
};

VerifyResult check(CertVerifier& v, const std::vector<std::byte>& der, std::time_t now) {
  CertInfo info;
  return v.verify(der, Role::kProvider, now, info);
}

std::vector<std::byte> unhex(std::string_view h) {
  std::vector<std::byte> out;
  for (std::size_t i = 0; i + 1 < h.size(); i += 2) {
    out.push_back(static_cast<std::byte>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16)));
  }
  return out;
}

}  // namespace

TEST_CASE("a refused certificate is remembered: the second time costs a hash, not a verify") {
  Pki pki;
  Pki other;
  CertVerifier v(pki.ca);
  const auto now = std::time(nullptr);
  const auto foreign = other.provider().der();
  CHECK(check(v, foreign, now) == VerifyResult::kUntrusted);
  CHECK(v.stats().misses == 1);
  for (int i = 0; i < 5; ++i) CHECK(check(v, foreign, now) == VerifyResult::kUntrusted);
  CHECK(v.stats().misses == 1);
  CHECK(v.stats().refused_hits == 5);

  const std::vector<std::byte> garbage(300, std::byte{0x30});
  CHECK(check(v, garbage, now) == VerifyResult::kBadEncoding);
  CHECK(check(v, garbage, now) == VerifyResult::kBadEncoding);
  CHECK(v.stats().misses == 2);
  CHECK(v.stats().refused_hits == 6);

  const auto good = pki.provider().der();
  CHECK(check(v, good, now) == VerifyResult::kOk);
  CHECK(check(v, good, now) == VerifyResult::kOk);
  CHECK(v.stats().misses == 3);
  CHECK(v.stats().hits == 1);
}

TEST_CASE("refusals never push genuine certificates out of the cache") {
  Pki pki;
  CertVerifier v(pki.ca, 4);
  const auto now = std::time(nullptr);
  const auto good = pki.provider().der();
  REQUIRE(check(v, good, now) == VerifyResult::kOk);
  for (int i = 0; i < 50; ++i) {
    std::vector<std::byte> junk(64, static_cast<std::byte>(i));
    CHECK(check(v, junk, now) == VerifyResult::kBadEncoding);
  }
  const auto misses = v.stats().misses;
  CHECK(check(v, good, now) == VerifyResult::kOk);
  CHECK(v.stats().misses == misses);  // still cached
  // The refused cache is bounded too: the oldest junk was forgotten and is verified again.
  std::size_t again = 0;
  for (int i = 0; i < 50; ++i) {
    std::vector<std::byte> junk(64, static_cast<std::byte>(i));
    const auto before = v.stats().misses;
    CHECK(check(v, junk, now) == VerifyResult::kBadEncoding);
    again += v.stats().misses - before;
  }
  CHECK(again >= 46);
}

TEST_CASE("a genuine certificate refused for its validity period is accepted once valid") {
  Pki pki;
  CertVerifier v(pki.ca);
  const auto now = std::time(nullptr);
  const auto future = pki.provider(3600, 3600).der();
  CHECK(check(v, future, now) == VerifyResult::kNotYetValid);
  CHECK(check(v, future, now + 3600) == VerifyResult::kOk);
  CHECK(check(v, future, now + 7300) == VerifyResult::kExpired);
  CHECK(v.stats().misses == 1);
  // Without a cache every call verifies, with the same verdicts.
  CertVerifier uncached(pki.ca, 0);
  CHECK(check(uncached, future, now) == VerifyResult::kNotYetValid);
  CHECK(check(uncached, future, now + 3600) == VerifyResult::kOk);
  CHECK(uncached.stats().misses == 2);
}

TEST_CASE("revoked serial numbers are refused, cached or not") {
  Pki pki;
  CertVerifier v(pki.ca);
  const auto now = std::time(nullptr);
  const Certificate cert = pki.provider();
  const Certificate other = pki.provider();
  const CertInfo info = cert.info();
  REQUIRE(!info.serial.empty());
  CHECK(info.serial.front() != std::byte{0});  // magnitude without leading zeros
  CHECK(info.serial != other.info().serial);
  CHECK(check(v, cert.der(), now) == VerifyResult::kOk);  // now cached

  v.set_revoked({info.serial});
  CHECK(check(v, cert.der(), now) == VerifyResult::kRevoked);
  CHECK(check(v, other.der(), now) == VerifyResult::kOk);
  CertVerifier fresh(pki.ca);
  fresh.set_revoked({info.serial});
  CHECK(check(fresh, cert.der(), now) == VerifyResult::kRevoked);
  CHECK(std::string_view(to_string(VerifyResult::kRevoked)) == "revoked");

  v.set_revoked({});
  CHECK(check(v, cert.der(), now) == VerifyResult::kOk);
}

TEST_CASE("session and tunnel keys: vector R4 of docs/protocol.md 9.8") {
  Digest shared{};
  shared.fill(std::byte{0x11});
  const std::uint64_t session_id = 0x0a0b0c0d0e0f1011;
  const std::uint64_t ts = 1700000000000000;
  const Digest k = derive_session_key(shared, session_id, ts);
  const TunnelKeyBytes kt = derive_tunnel_key(shared, session_id, ts);
  const auto want_k = unhex("cd7b5297df2929879780bdc3fa5b9547ccd5552a515fb7535437322a326e5136");
  const auto want_kt = unhex("a2f3ae18c4bb96a36227c0ee13c04d2678d8fd8cfe60557e11a499b1a76dfb48");
  CHECK(std::vector<std::byte>(k.begin(), k.end()) == want_k);
  CHECK(std::vector<std::byte>(kt.begin(), kt.end()) == want_kt);

  // R5: the KEEPALIVE's MAC under K.
  const auto keepalive = unhex(
      "020604000a0b0c0d0e0f1011000000000000000100000352"
      "00000000");
  const auto want_mac = unhex("dec948c7e8b5f0dfb8dc4416bec929bc");
  const SessionMac mac = session_mac(k, keepalive);
  CHECK(std::vector<std::byte>(mac.begin(), mac.end()) == want_mac);
  SessionMac m{};
  std::copy(want_mac.begin(), want_mac.end(), m.begin());
  CHECK(session_mac_ok(k, keepalive, m));
  m[0] ^= std::byte{1};
  CHECK_FALSE(session_mac_ok(k, keepalive, m));
}

}  // namespace dmux::crypto
