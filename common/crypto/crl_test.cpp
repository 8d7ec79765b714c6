#include "common/crypto/crl.h"

#include <doctest/doctest.h>

#include "tests/temp_dir.h"

namespace dmux::crypto {

TEST_CASE("a CRL the CA makes verifies, lists its serials and number, and round-trips") {
  const auto ca_key = SigningKey::generate();
  const auto ca = make_ca(ca_key, "test CA", 3650);
  IssueRequest req;
  req.info.role = Role::kProvider;
  req.info.provider_id = 7;
  req.info.protocols = {1};
  req.info.common_name = "p7";
  req.subject_key = SigningKey::generate().public_key();
  const auto leaf = issue(ca, ca_key, req);
  const SerialNumber serial = leaf.info().serial;
  const std::vector<SerialNumber> revoked = {serial};
  const Crl crl = make_crl(ca, ca_key, revoked, 42, 30);
  CHECK(crl.signed_by(ca));
  CHECK(crl.number() == 42);
  REQUIRE(crl.revoked().size() == 1);
  CHECK(crl.revoked()[0] == serial);
  CHECK(crl.next_update() > crl.last_update());

  const Crl back = Crl::from_der(crl.der());
  CHECK(back.number() == 42);
  CHECK(back.signed_by(ca));

  dmux::testing::TempDir dir;
  crl.save_pem(dir.file("crl.pem"));
  crl.save_der(dir.file("crl.der"));
  CHECK(Crl::load(dir.file("crl.pem")).number() == 42);
  CHECK(Crl::load(dir.file("crl.der")).revoked().size() == 1);
}

TEST_CASE("a CRL from another CA, a tampered one, or garbage is refused") {
  const auto ca_key = SigningKey::generate();
  const auto ca = make_ca(ca_key, "test CA", 3650);
  const auto other_key = SigningKey::generate();
  const auto other = make_ca(other_key, "test CA", 3650);  // same name, other key
  const Crl forged = make_crl(other, other_key, {}, 99, 30);
  CHECK_FALSE(forged.signed_by(ca));
  auto der = make_crl(ca, ca_key, {}, 5, 30).der();
  der[der.size() - 3] ^= std::byte{0x40};  // inside the signature
  CHECK_FALSE(Crl::from_der(der).signed_by(ca));
  const std::vector<std::byte> junk(40, std::byte{0x30});
  CHECK_THROWS_AS(Crl::from_der(junk), CryptoError);
}

}  // namespace dmux::crypto
