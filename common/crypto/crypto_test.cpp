#include "common/crypto/crypto.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdlib>
#include <filesystem>
#include <string_view>

#include "common/crypto/scope.h"
#include "tests/temp_dir.h"

namespace dmux::crypto {
using dmux::testing::TempDir;

namespace {

std::span<const std::byte> bytes(std::string_view s) {
  return std::as_bytes(std::span<const char>(s.data(), s.size()));
}

std::string hex(std::span<const std::byte> b) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string s;
  for (const std::byte x : b) {
    s += kDigits[static_cast<unsigned>(x) >> 4];
    s += kDigits[static_cast<unsigned>(x) & 0xf];
  }
  return s;
}

struct TestCa {
  SigningKey key = SigningKey::generate();
  Certificate cert;
  explicit TestCa(const std::string& name = "IPdmux test CA") : cert(make_ca(key, name, 3650)) {}
};

IssueRequest provider_request(const SigningKey& subject, std::uint32_t provider_id = 7) {
  IssueRequest r;
  r.info.role = Role::kProvider;
  r.info.provider_id = provider_id;
  r.info.protocols = {2, 1, 2};  // normalised to 1,2
  r.info.common_name = "provider-" + std::to_string(provider_id);
  r.subject_key = subject.public_key();
  return r;
}

IssueRequest gateway_request(const SigningKey& subject) {
  IssueRequest r;
  r.info.role = Role::kGateway;
  r.info.gateway_id = 0xc6120001;  // 198.18.0.1
  r.info.common_name = "gateway-198.18.0.1";
  r.subject_key = subject.public_key();
  return r;
}

VerifyResult check(CertVerifier& v, const Certificate& c, Role role, std::time_t now) {
  CertInfo info;
  return v.verify(c.der(), role, now, info);
}

TEST_CASE("Ed25519 signatures verify, and tampering is detected") {
  const auto key = SigningKey::generate();
  const auto msg = bytes("register provider 7");
  const Signature sig = key.sign(msg);
  CHECK(verify_signature(key.public_key(), msg, sig));
  CHECK_FALSE(verify_signature(key.public_key(), bytes("register provider 8"), sig));
  Signature bad = sig;
  bad[10] ^= std::byte{0x01};
  CHECK_FALSE(verify_signature(key.public_key(), msg, bad));
  CHECK_FALSE(verify_signature(SigningKey::generate().public_key(), msg, sig));
  CHECK_FALSE(verify_signature(PublicKeyBytes{}, msg, sig));
  // An empty message is a message.
  CHECK(verify_signature(key.public_key(), {}, key.sign({})));
}

TEST_CASE("a certificate issued by the CA verifies and carries its scope") {
  TestCa ca;
  CHECK(ca.cert.info().role == Role::kCa);
  CHECK(ca.cert.info().common_name == "IPdmux test CA");
  CertVerifier verifier(ca.cert);
  const auto now = std::time(nullptr);

  const auto router_key = SigningKey::generate();
  const Certificate provider = issue(ca.cert, ca.key, provider_request(router_key));
  CertInfo info;
  REQUIRE(verifier.verify(provider.der(), Role::kProvider, now, info) == VerifyResult::kOk);
  CHECK(info.role == Role::kProvider);
  CHECK(info.provider_id == 7);
  CHECK(info.protocols == std::vector<std::uint16_t>{1, 2});
  CHECK(info.common_name == "provider-7");
  CHECK(info.public_key == router_key.public_key());
  CHECK(info.not_before <= now - 59);
  CHECK(info.not_after >= now + 365LL * 24 * 3600 - 5);
  CHECK(provider.info().provider_id == 7);

  const auto gw_key = SigningKey::generate();
  const Certificate gateway = issue(ca.cert, ca.key, gateway_request(gw_key));
  REQUIRE(verifier.verify(gateway.der(), Role::kGateway, now, info) == VerifyResult::kOk);
  CHECK(info.role == Role::kGateway);
  CHECK(info.gateway_id == 0xc6120001u);
  CHECK(info.provider_id == 0);
  CHECK(info.protocols.empty());
  CHECK(info.public_key == gw_key.public_key());

  // DER round trip.
  CHECK(Certificate::from_der(provider.der()).der() == provider.der());
}

TEST_CASE("certificates from elsewhere are untrusted") {
  TestCa ca;
  CertVerifier verifier(ca.cert);
  const auto now = std::time(nullptr);
  const auto key = SigningKey::generate();

  SUBCASE("another CA") {
    TestCa other("another CA");
    CHECK(check(verifier, issue(other.cert, other.key, provider_request(key)), Role::kProvider,
                now) == VerifyResult::kUntrusted);
  }
  SUBCASE("another CA with the same name") {
    TestCa other("IPdmux test CA");
    CHECK(check(verifier, issue(other.cert, other.key, provider_request(key)), Role::kProvider,
                now) == VerifyResult::kUntrusted);
  }
  SUBCASE("a self-signed leaf with an IPdmux extension") {
    // Issued by a "CA" that is the leaf's own key and name: issuer == subject, CA:FALSE.
    auto request = provider_request(key);
    const Certificate self_ca = make_ca(key, request.info.common_name, 1);
    const Certificate leaf = issue(self_ca, key, request);
    CHECK(leaf.info().role == Role::kProvider);
    CHECK(check(verifier, leaf, Role::kProvider, now) == VerifyResult::kUntrusted);
  }
}

TEST_CASE("validity: expired and not yet valid") {
  TestCa ca;
  CertVerifier verifier(ca.cert, 0);  // no cache: each verify walks the chain
  const auto key = SigningKey::generate();
  const auto now = std::time(nullptr);

  auto expired_request = provider_request(key);
  expired_request.not_before_offset_s = -7200;
  expired_request.not_after_offset_s = -3600;
  CHECK(check(verifier, issue(ca.cert, ca.key, expired_request), Role::kProvider, now) ==
        VerifyResult::kExpired);

  auto future_request = provider_request(key);
  future_request.not_before_offset_s = 3600;
  future_request.not_after_offset_s = 7200;
  CHECK(check(verifier, issue(ca.cert, ca.key, future_request), Role::kProvider, now) ==
        VerifyResult::kNotYetValid);

  // The same certificate, judged at different times; the boundaries are [not_before, not_after).
  const Certificate cert = issue(ca.cert, ca.key, provider_request(key));
  const CertInfo info = cert.info();
  CHECK(check(verifier, cert, Role::kProvider, info.not_before) == VerifyResult::kOk);
  CHECK(check(verifier, cert, Role::kProvider, info.not_before - 1) == VerifyResult::kNotYetValid);
  CHECK(check(verifier, cert, Role::kProvider, info.not_after - 1) == VerifyResult::kOk);
  CHECK(check(verifier, cert, Role::kProvider, info.not_after) == VerifyResult::kExpired);
  // A leaf that outlives the CA is expired once the CA is.
  auto long_request = provider_request(key);
  long_request.not_after_offset_s = 20LL * 365 * 24 * 3600;
  const Certificate long_lived = issue(ca.cert, ca.key, long_request);
  const std::time_t ca_not_after = ca.cert.info().not_after;
  CHECK(check(verifier, long_lived, Role::kProvider, ca_not_after - 1) == VerifyResult::kOk);
  CHECK(check(verifier, long_lived, Role::kProvider, ca_not_after) == VerifyResult::kExpired);
  // The same through the cache.
  CertVerifier cached(ca.cert);
  CHECK(check(cached, long_lived, Role::kProvider, now) == VerifyResult::kOk);
  CHECK(check(cached, long_lived, Role::kProvider, ca_not_after) == VerifyResult::kExpired);
}

TEST_CASE("a genuine certificate used for the wrong role is refused") {
  TestCa ca;
  CertVerifier verifier(ca.cert);
  const auto now = std::time(nullptr);
  const auto key = SigningKey::generate();
  const Certificate gateway = issue(ca.cert, ca.key, gateway_request(key));
  CHECK(check(verifier, gateway, Role::kProvider, now) == VerifyResult::kWrongRole);
  const Certificate provider = issue(ca.cert, ca.key, provider_request(key));
  CHECK(check(verifier, provider, Role::kGateway, now) == VerifyResult::kWrongRole);
  // The CA certificate is never a leaf, whatever role is asked for.
  CHECK(check(verifier, ca.cert, Role::kProvider, now) == VerifyResult::kWrongRole);
  CHECK(check(verifier, ca.cert, Role::kCa, now) == VerifyResult::kWrongRole);
}

TEST_CASE("tampered and garbage bytes are refused") {
  TestCa ca;
  CertVerifier verifier(ca.cert);
  const auto now = std::time(nullptr);
  const Certificate cert = issue(ca.cert, ca.key, provider_request(SigningKey::generate()));
  const std::vector<std::byte> der = cert.der();
  CertInfo info;

  // One flipped byte anywhere (the signed part, the algorithm, the signature) is never accepted.
  for (std::size_t i = 0; i < der.size(); ++i) {
    auto tampered = der;
    tampered[i] ^= std::byte{0x01};
    const VerifyResult r = verifier.verify(tampered, Role::kProvider, now, info);
    INFO("byte " << i << " of " << der.size() << ": " << to_string(r));
    CHECK(r != VerifyResult::kOk);
  }
  // Changing the provider id inside the signed extension: still parses, signature fails.
  const std::string_view needle = "provider=7";
  const auto text = std::string_view(reinterpret_cast<const char*>(der.data()), der.size());
  const auto pos = text.find(needle);
  REQUIRE(pos != std::string_view::npos);
  auto forged = der;
  forged[pos + needle.size() - 1] = std::byte{'8'};
  CHECK(verifier.verify(forged, Role::kProvider, now, info) == VerifyResult::kUntrusted);

  CHECK(verifier.verify(bytes("definitely not a certificate"), Role::kProvider, now, info) ==
        VerifyResult::kBadEncoding);
  CHECK(verifier.verify({}, Role::kProvider, now, info) == VerifyResult::kBadEncoding);
  auto trailing = der;
  trailing.push_back(std::byte{0});
  CHECK(verifier.verify(trailing, Role::kProvider, now, info) == VerifyResult::kBadEncoding);
  auto truncated = der;
  truncated.pop_back();
  CHECK(verifier.verify(truncated, Role::kProvider, now, info) == VerifyResult::kBadEncoding);
  CHECK_THROWS_AS(Certificate::from_der(bytes("junk")), CryptoError);
  // And the genuine one still passes after all that.
  CHECK(verifier.verify(der, Role::kProvider, now, info) == VerifyResult::kOk);
}

TEST_CASE("the verifier cache still applies expiry and role") {
  TestCa ca;
  CertVerifier verifier(ca.cert, 2);
  const auto key = SigningKey::generate();
  const Certificate cert = issue(ca.cert, ca.key, provider_request(key));
  const CertInfo expect = cert.info();
  const auto now = std::time(nullptr);
  CertInfo info;
  REQUIRE(verifier.verify(cert.der(), Role::kProvider, now, info) == VerifyResult::kOk);
  info = CertInfo{};
  REQUIRE(verifier.verify(cert.der(), Role::kProvider, now + 1, info) == VerifyResult::kOk);
  CHECK(info.provider_id == 7);  // a hit fills `out` too
  CHECK(info.public_key == key.public_key());
  CHECK(verifier.verify(cert.der(), Role::kProvider, expect.not_after, info) ==
        VerifyResult::kExpired);
  CHECK(verifier.verify(cert.der(), Role::kProvider, expect.not_before - 1, info) ==
        VerifyResult::kNotYetValid);
  CHECK(verifier.verify(cert.der(), Role::kGateway, now, info) == VerifyResult::kWrongRole);

  // Filling the cache past its bound keeps everything verifiable.
  const Certificate other1 = issue(ca.cert, ca.key, provider_request(key, 8));
  const Certificate other2 = issue(ca.cert, ca.key, provider_request(key, 9));
  for (int round = 0; round < 2; ++round) {
    CHECK(check(verifier, other1, Role::kProvider, now) == VerifyResult::kOk);
    CHECK(check(verifier, other2, Role::kProvider, now) == VerifyResult::kOk);
    CHECK(check(verifier, cert, Role::kProvider, now) == VerifyResult::kOk);
  }
}

TEST_CASE("issue refuses what it must not sign") {
  TestCa ca;
  const auto key = SigningKey::generate();
  auto r = provider_request(key);
  r.info.role = Role::kCa;
  CHECK_THROWS_AS(issue(ca.cert, ca.key, r), CryptoError);
  r = provider_request(key, 0);
  CHECK_THROWS_AS(issue(ca.cert, ca.key, r), CryptoError);
  r = provider_request(key);
  r.info.protocols.clear();
  CHECK_THROWS_AS(issue(ca.cert, ca.key, r), CryptoError);
  r.info.protocols = {0xFFFF};
  CHECK_THROWS_AS(issue(ca.cert, ca.key, r), CryptoError);
  r = provider_request(key);
  r.not_after_offset_s = r.not_before_offset_s;
  CHECK_THROWS_AS(issue(ca.cert, ca.key, r), CryptoError);
  auto g = gateway_request(key);
  g.info.gateway_id = 0;
  CHECK_THROWS_AS(issue(ca.cert, ca.key, g), CryptoError);
  // The CA key must match the CA certificate, and the issuer must be a CA.
  CHECK_THROWS_AS(issue(ca.cert, key, provider_request(key)), CryptoError);
  const Certificate leaf = issue(ca.cert, ca.key, provider_request(key));
  CHECK_THROWS_AS(issue(leaf, key, provider_request(key)), CryptoError);
}

TEST_CASE("the IPdmux extension text is parsed strictly") {
  CertInfo info;
  CHECK(detail::parse_scope("role=ca", info));
  CHECK(info.role == Role::kCa);
  REQUIRE(detail::parse_scope("role=provider;provider=7;protocols=1,2,32768", info));
  CHECK(info.role == Role::kProvider);
  CHECK(info.provider_id == 7);
  CHECK(info.protocols == std::vector<std::uint16_t>{1, 2, 0x8000});
  REQUIRE(detail::parse_scope("role=gateway;gateway=3323068417", info));
  CHECK(info.gateway_id == 3323068417u);
  CHECK(detail::parse_scope("role=provider;provider=4294967295;protocols=65534", info));

  for (const char* bad : {"",
                          "role=",
                          "role=CA",
                          "role=ca;",
                          "role=ca;provider=1",
                          "role=router",
                          "role=provider;provider=7",
                          "role=provider;protocols=1;provider=7",
                          "role=provider;provider=0;protocols=1",
                          "role=provider;provider=07;protocols=1",
                          "role=provider;provider=4294967296;protocols=1",
                          "role=provider;provider=+7;protocols=1",
                          "role=provider;provider=7;protocols=",
                          "role=provider;provider=7;protocols=0",
                          "role=provider;provider=7;protocols=65535",
                          "role=provider;provider=7;protocols=2,1",
                          "role=provider;provider=7;protocols=1,1",
                          "role=provider;provider=7;protocols=1,",
                          "role=provider;provider=7;protocols=1;gateway=3",
                          "role=provider;provider=7;protocols= 1",
                          "role=provider;provider=7;protocols=1;",
                          "role=gateway;gateway=0",
                          "role=gateway;gateway=4294967296",
                          "role=gateway;gateway=1;x=2",
                          "role=gateway;gw=1",
                          "role=gateway;gateway=0x10",
                          " role=ca"}) {
    INFO(bad);
    CHECK_FALSE(detail::parse_scope(bad, info));
  }
  CHECK_FALSE(detail::parse_scope(std::string_view("role=ca\0", 8), info));

  CertInfo p;
  p.role = Role::kProvider;
  p.provider_id = 7;
  p.protocols = {2, 1, 2};
  CHECK(detail::format_scope(p) == "role=provider;provider=7;protocols=1,2");
}

TEST_CASE("X25519: both sides derive the same secret") {
  const KeyAgreement alice;
  const KeyAgreement bob;
  Digest a{};
  Digest b{};
  REQUIRE(alice.derive(bob.public_key(), a));
  REQUIRE(bob.derive(alice.public_key(), b));
  CHECK(a == b);
  CHECK(a != Digest{});
  Digest c{};
  REQUIRE(KeyAgreement().derive(bob.public_key(), c));
  CHECK(c != a);
  // Small-order points give an all-zero secret and are refused.
  Digest z{};
  CHECK_FALSE(alice.derive(PublicKeyBytes{}, z));
  PublicKeyBytes one{};
  one[0] = std::byte{1};
  CHECK_FALSE(alice.derive(one, z));
  CHECK(z == Digest{});
}

TEST_CASE("SHA-256 and HMAC-SHA256 test vectors") {
  CHECK(hex(sha256(bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256({})) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  // RFC 4231 test case 2.
  CHECK(hex(hmac_sha256(bytes("Jefe"), bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("constant-time comparison and randomness") {
  CHECK(equal_constant_time(bytes("abc"), bytes("abc")));
  CHECK_FALSE(equal_constant_time(bytes("abc"), bytes("abd")));
  CHECK_FALSE(equal_constant_time(bytes("abc"), bytes("ab")));
  CHECK(equal_constant_time({}, {}));
  std::array<std::byte, 32> r1{};
  std::array<std::byte, 32> r2{};
  random_bytes(r1);
  random_bytes(r2);
  CHECK(r1 != r2);
  CHECK(random_u64() != random_u64());
}

TEST_CASE("PEM files round trip") {
  TempDir dir("dmux-crypto");
  TestCa ca;
  const auto key_path = dir.file("ca.key");
  const auto cert_path = dir.file("ca.crt");
  ca.key.save_pem(key_path);
  ca.cert.save_pem(cert_path);
  struct stat st {};
  REQUIRE(::stat(key_path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  const SigningKey key = SigningKey::load_pem(key_path);
  CHECK(key.public_key() == ca.key.public_key());
  const Certificate cert = Certificate::load_pem(cert_path);
  CHECK(cert.der() == ca.cert.der());
  // The reloaded pair still issues certificates the original CA certificate accepts.
  CertVerifier verifier(ca.cert);
  CHECK(check(verifier, issue(cert, key, provider_request(key)), Role::kProvider,
              std::time(nullptr)) == VerifyResult::kOk);

  CHECK_THROWS_WITH_AS(SigningKey::load_pem(dir.file("missing.key")),
                       doctest::Contains("missing.key"), CryptoError);
  CHECK_THROWS_AS(SigningKey::load_pem(cert_path), CryptoError);
  CHECK_THROWS_AS(Certificate::load_pem(key_path), CryptoError);
}

}  // namespace
}  // namespace dmux::crypto
