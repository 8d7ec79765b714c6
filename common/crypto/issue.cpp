// make_ca and issue: building and signing X.509 v3 certificates with the CA's Ed25519 key.
#include <ctime>

#include "common/crypto/impl.h"
#include "common/crypto/scope.h"

namespace dmux::crypto {
namespace {

struct CertSpec {
  std::string common_name;
  std::string scope;  // the IPdmux extension's text
  bool is_ca = false;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  EVP_PKEY* subject_key = nullptr;
  X509* issuer = nullptr;  // null: self-signed (OpenSSL only reads it)
  EVP_PKEY* signer = nullptr;
};

void set_random_serial(X509* x509) {
  std::array<std::byte, 16> serial{};  // 128 bits
  random_bytes(serial);
  serial[0] &= std::byte{0x7f};   // a positive INTEGER
  serial[15] |= std::byte{0x01};  // never zero
  const detail::BignumPtr bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()), serial.size(), nullptr));
  if (!bn || BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x509)) == nullptr) {
    detail::throw_openssl("certificate serial");
  }
}

void add_extension(X509* x509, X509V3_CTX& ctx, int nid, const char* value) {
  const detail::X509ExtPtr ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
  if (!ext || X509_add_ext(x509, ext.get(), -1) != 1) {
    detail::throw_openssl(std::string("certificate extension ") + OBJ_nid2sn(nid));
  }
}

detail::X509Ptr build(const CertSpec& spec) {
  if (spec.common_name.empty()) throw CryptoError("a certificate needs a common name");
  if (spec.not_after <= spec.not_before) throw CryptoError("certificate validity is empty");
  detail::X509Ptr x509(X509_new());
  if (!x509 || X509_set_version(x509.get(), X509_VERSION_3) != 1) {
    detail::throw_openssl("new certificate");
  }
  set_random_serial(x509.get());

  X509_NAME* subject = X509_get_subject_name(x509.get());
  if (X509_NAME_add_entry_by_NID(subject, NID_commonName, MBSTRING_UTF8,
                                 reinterpret_cast<const unsigned char*>(spec.common_name.data()),
                                 static_cast<int>(spec.common_name.size()), -1, 0) != 1 ||
      X509_set_issuer_name(
          x509.get(), spec.issuer != nullptr ? X509_get_subject_name(spec.issuer) : subject) != 1 ||
      ASN1_TIME_set(X509_getm_notBefore(x509.get()), spec.not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(x509.get()), spec.not_after) == nullptr ||
      X509_set_pubkey(x509.get(), spec.subject_key) != 1) {
    detail::throw_openssl("certificate fields");
  }

  // The key identifiers are computed from the keys; a self-signed certificate is its own issuer.
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, spec.issuer != nullptr ? spec.issuer : x509.get(), x509.get(), nullptr,
                 nullptr, 0);
  X509V3_set_ctx_nodb(&ctx);
  add_extension(x509.get(), ctx, NID_basic_constraints,
                spec.is_ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add_extension(x509.get(), ctx, NID_key_usage,
                spec.is_ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add_extension(x509.get(), ctx, NID_subject_key_identifier, "hash");
  add_extension(x509.get(), ctx, NID_authority_key_identifier, "keyid:always");
  const detail::X509ExtPtr scope = detail::make_ipdmux_extension(spec.scope);
  if (X509_add_ext(x509.get(), scope.get(), -1) != 1) detail::throw_openssl("IPdmux extension");

  // Ed25519 hashes internally: no separate digest.
  if (X509_sign(x509.get(), spec.signer, nullptr) <= 0)
    detail::throw_openssl("signing certificate");
  return x509;
}

std::time_t offset_from(std::time_t now, std::int64_t offset_s) {
  std::time_t t = 0;
  if (__builtin_add_overflow(now, offset_s, &t)) throw CryptoError("validity offset out of range");
  return t;
}

}  // namespace

Certificate make_ca(const SigningKey& ca_key, const std::string& common_name,
                    std::int64_t valid_days) {
  if (valid_days <= 0 || valid_days > 100LL * 366)
    throw CryptoError("CA validity must be 1..36600 days");
  const std::time_t now = std::time(nullptr);
  CertInfo ca_info;
  ca_info.role = Role::kCa;
  CertSpec spec;
  spec.common_name = common_name;
  spec.scope = detail::format_scope(ca_info);
  spec.is_ca = true;
  spec.not_before = now - 60;  // tolerate a little clock skew
  spec.not_after = offset_from(now, valid_days * 24 * 3600);
  spec.subject_key = ca_key.impl().pkey.get();
  spec.signer = ca_key.impl().pkey.get();
  return Certificate::Impl::wrap(build(spec));
}

Certificate issue(const Certificate& ca_cert, const SigningKey& ca_key,
                  const IssueRequest& request) {
  X509* ca = ca_cert.impl().x509.get();
  if (ca_cert.info().role != Role::kCa)
    throw CryptoError("the issuer is not an IPdmux CA certificate");
  if (X509_check_private_key(ca, ca_key.impl().pkey.get()) != 1) {
    detail::clear_errors();
    throw CryptoError("the CA key does not belong to the CA certificate");
  }
  if (request.info.role == Role::kCa) throw CryptoError("issue() makes leaf certificates only");

  const detail::PkeyPtr subject_key(EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(request.subject_key.data()),
      request.subject_key.size()));
  if (!subject_key) detail::throw_openssl("subject public key");

  const std::time_t now = std::time(nullptr);
  CertSpec spec;
  spec.common_name = request.info.common_name;
  spec.scope = detail::format_scope(request.info);
  spec.not_before = offset_from(now, request.not_before_offset_s);
  spec.not_after = offset_from(now, request.not_after_offset_s);
  spec.subject_key = subject_key.get();
  spec.issuer = ca;
  spec.signer = ca_key.impl().pkey.get();
  return Certificate::Impl::wrap(build(spec));
}

}  // namespace dmux::crypto
