// X.509 v2 CRLs with OpenSSL.
#include "common/crypto/crl.h"

#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <fstream>
#include <iterator>

#include "common/crypto/impl.h"

namespace dmux::crypto {

namespace {
using CrlPtr = std::unique_ptr<X509_CRL, detail::Deleter<&X509_CRL_free>>;
using RevokedPtr = std::unique_ptr<X509_REVOKED, detail::Deleter<&X509_REVOKED_free>>;
using TimePtr = std::unique_ptr<ASN1_TIME, detail::Deleter<&ASN1_TIME_free>>;

std::time_t to_time_t(const ASN1_TIME* t) noexcept {
  if (t == nullptr) return 0;
  tm out{};
  if (ASN1_TIME_to_tm(t, &out) != 1) return 0;
  return timegm(&out);
}
}  // namespace

struct Crl::Impl {
  CrlPtr crl;
};

Crl::Crl(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Crl::~Crl() = default;
Crl::Crl(Crl&&) noexcept = default;
Crl& Crl::operator=(Crl&&) noexcept = default;

Crl Crl::copy() const {
  auto impl = std::make_unique<Impl>();
  impl->crl.reset(X509_CRL_dup(impl_->crl.get()));
  if (!impl->crl) detail::throw_openssl("copying a CRL");
  return Crl(std::move(impl));
}

Crl Crl::from_der(std::span<const std::byte> der) {
  const unsigned char* p = detail::bytes_of(der.data());
  CrlPtr crl(d2i_X509_CRL(nullptr, &p, static_cast<long>(der.size())));
  if (!crl || p != detail::bytes_of(der.data()) + der.size()) {
    detail::clear_errors();
    throw CryptoError("not a DER certificate revocation list");
  }
  auto impl = std::make_unique<Impl>();
  impl->crl = std::move(crl);
  return Crl(std::move(impl));
}

Crl Crl::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw CryptoError("cannot open " + path);
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.find("-----BEGIN X509 CRL-----") != std::string::npos) {
    detail::BioPtr bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    CrlPtr crl(bio ? PEM_read_bio_X509_CRL(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!crl) detail::throw_openssl("cannot read a CRL from " + path);
    auto impl = std::make_unique<Impl>();
    impl->crl = std::move(crl);
    return Crl(std::move(impl));
  }
  try {
    return from_der(std::as_bytes(std::span(text.data(), text.size())));
  } catch (const CryptoError&) {
    throw CryptoError(path + " is not a certificate revocation list (PEM or DER)");
  }
}

void Crl::save_pem(const std::string& path) const {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509_CRL(bio.get(), impl_->crl.get()) != 1) {
    detail::throw_openssl("encoding a CRL");
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  detail::write_file(path, std::string(data, static_cast<std::size_t>(len)), 0644);
}

void Crl::save_der(const std::string& path) const {
  const auto d = der();
  detail::write_file(path, std::string(reinterpret_cast<const char*>(d.data()), d.size()), 0644);
}

bool Crl::signed_by(const Certificate& ca) const noexcept {
  X509* ca_x509 = ca.impl().x509.get();
  EVP_PKEY* key = X509_get0_pubkey(ca_x509);
  const bool ok =
      key != nullptr &&
      X509_NAME_cmp(X509_CRL_get_issuer(impl_->crl.get()), X509_get_subject_name(ca_x509)) == 0 &&
      X509_CRL_verify(impl_->crl.get(), key) == 1;
  if (!ok) detail::clear_errors();
  return ok;
}

std::uint64_t Crl::number() const noexcept {
  int crit = 0;
  detail::Asn1IntegerPtr n(static_cast<ASN1_INTEGER*>(
      X509_CRL_get_ext_d2i(impl_->crl.get(), NID_crl_number, &crit, nullptr)));
  std::uint64_t out = 0;
  if (!n || ASN1_INTEGER_get_uint64(&out, n.get()) != 1) {
    detail::clear_errors();
    return 0;
  }
  return out;
}

std::vector<SerialNumber> Crl::revoked() const {
  std::vector<SerialNumber> out;
  STACK_OF(X509_REVOKED)* list = X509_CRL_get_REVOKED(impl_->crl.get());
  for (int i = 0; i < sk_X509_REVOKED_num(list); ++i) {
    const X509_REVOKED* r = sk_X509_REVOKED_value(list, i);
    const detail::BignumPtr bn(ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(r), nullptr));
    if (!bn) continue;
    SerialNumber s(static_cast<std::size_t>(BN_num_bytes(bn.get())));
    BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(s.data()));
    out.push_back(std::move(s));
  }
  return out;
}

std::time_t Crl::last_update() const noexcept {
  return to_time_t(X509_CRL_get0_lastUpdate(impl_->crl.get()));
}

std::time_t Crl::next_update() const noexcept {
  return to_time_t(X509_CRL_get0_nextUpdate(impl_->crl.get()));
}

std::vector<std::byte> Crl::der() const {
  unsigned char* buf = nullptr;
  const int len = i2d_X509_CRL(impl_->crl.get(), &buf);
  if (len <= 0) detail::throw_openssl("encoding a CRL");
  const detail::OpensslPtr<unsigned char> owned(buf);
  const auto* b = reinterpret_cast<const std::byte*>(buf);
  return std::vector<std::byte>(b, b + len);
}

Crl make_crl(const Certificate& ca, const SigningKey& ca_key, std::span<const SerialNumber> revoked,
             std::uint64_t number, std::int64_t valid_days) {
  CrlPtr crl(X509_CRL_new());
  const std::time_t now = std::time(nullptr);
  TimePtr last(ASN1_TIME_set(nullptr, now));
  TimePtr next(ASN1_TIME_set(nullptr, now + valid_days * 24 * 3600));
  if (!crl || !last || !next || X509_CRL_set_version(crl.get(), X509_CRL_VERSION_2) != 1 ||
      X509_CRL_set_issuer_name(crl.get(), X509_get_subject_name(ca.impl().x509.get())) != 1 ||
      X509_CRL_set1_lastUpdate(crl.get(), last.get()) != 1 ||
      X509_CRL_set1_nextUpdate(crl.get(), next.get()) != 1) {
    detail::throw_openssl("new CRL");
  }
  for (const auto& serial : revoked) {
    RevokedPtr r(X509_REVOKED_new());
    const detail::BignumPtr bn(BN_bin2bn(reinterpret_cast<const unsigned char*>(serial.data()),
                                         static_cast<int>(serial.size()), nullptr));
    detail::Asn1IntegerPtr asn(bn ? BN_to_ASN1_INTEGER(bn.get(), nullptr) : nullptr);
    if (!r || !asn || X509_REVOKED_set_serialNumber(r.get(), asn.get()) != 1 ||
        X509_REVOKED_set_revocationDate(r.get(), last.get()) != 1 ||
        X509_CRL_add0_revoked(crl.get(), r.get()) != 1) {
      detail::throw_openssl("CRL entry");
    }
    r.release();  // owned by the CRL now
  }
  detail::Asn1IntegerPtr n(ASN1_INTEGER_new());
  if (!n || ASN1_INTEGER_set_uint64(n.get(), number) != 1 ||
      X509_CRL_add1_ext_i2d(crl.get(), NID_crl_number, n.get(), 0, 0) != 1 ||
      X509_CRL_sort(crl.get()) != 1 ||
      X509_CRL_sign(crl.get(), ca_key.impl().pkey.get(), nullptr) <= 0) {
    detail::throw_openssl("signing the CRL");
  }
  unsigned char* buf = nullptr;
  const int len = i2d_X509_CRL(crl.get(), &buf);
  if (len <= 0) detail::throw_openssl("encoding the CRL");
  const detail::OpensslPtr<unsigned char> owned(buf);
  return Crl::from_der(
      std::span(reinterpret_cast<const std::byte*>(buf), static_cast<std::size_t>(len)));
}

}  // namespace dmux::crypto
