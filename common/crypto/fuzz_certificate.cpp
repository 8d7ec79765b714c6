// libFuzzer target: arbitrary bytes offered as a peer's certificate, as the extension text, and
// as a CRL from a mesh peer (docs/protocol.md 12.7).
#include <cstddef>
#include <cstdint>
#include <ctime>
#include <span>
#include <string_view>

#include "common/crypto/crl.h"
#include "common/crypto/crypto.h"
#include "common/crypto/scope.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::crypto;
  static const SigningKey ca_key = SigningKey::generate();
  static const Certificate ca = make_ca(ca_key, "fuzz CA", 1);
  static CertVerifier verifier(ca, 0);
  const auto bytes = std::as_bytes(std::span(data, size));
  CertInfo info;
  (void)verifier.verify(bytes, Role::kProvider, std::time(nullptr), info);
  (void)detail::parse_scope(std::string_view(reinterpret_cast<const char*>(data), size), info);
  try {
    const Crl crl = Crl::from_der(bytes);
    (void)crl.signed_by(ca);
    (void)crl.number();
    (void)crl.revoked();
  } catch (const CryptoError&) {
  }
  return 0;
}
