// Certificate: DER and PEM in and out, and reading the IPdmux extension and validity.
#include <openssl/objects.h>
#include <openssl/pem.h>

#include <ctime>

#include "common/crypto/impl.h"
#include "common/crypto/scope.h"

namespace dmux::crypto {
namespace detail {
namespace {

constexpr const char* kIpdmuxOid = "2.25.283635129742297453410364526633519858945";

bool to_time_t(const ASN1_TIME* t, std::time_t& out) {
  std::tm tm{};
  if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return false;
  out = ::timegm(&tm);
  return true;
}

bool read_common_name(const X509_NAME* name, std::string& out) {
  out.clear();
  const int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return true;  // no CN: allowed, the scope lives in the extension
  const ASN1_STRING* data = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(&utf8, data);
  if (len < 0) return false;
  const OpensslPtr<unsigned char> hold(utf8);
  out.assign(reinterpret_cast<const char*>(utf8), static_cast<std::size_t>(len));
  return true;
}

// The extension's text: exactly one IPdmux extension whose value is exactly one UTF8String.
bool read_scope_text(const X509* x509, std::string& out) {
  const int idx = X509_get_ext_by_OBJ(x509, ipdmux_oid(), -1);
  if (idx < 0 || X509_get_ext_by_OBJ(x509, ipdmux_oid(), idx) >= 0) return false;
  const ASN1_OCTET_STRING* value = X509_EXTENSION_get_data(X509_get_ext(x509, idx));
  const unsigned char* p = ASN1_STRING_get0_data(value);
  const long len = ASN1_STRING_length(value);
  const unsigned char* const end = p + len;
  const Asn1Utf8Ptr text(d2i_ASN1_UTF8STRING(nullptr, &p, len));
  if (!text || p != end || ASN1_STRING_type(text.get()) != V_ASN1_UTF8STRING) return false;
  out.assign(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text.get())),
             static_cast<std::size_t>(ASN1_STRING_length(text.get())));
  return true;
}

bool read_public_key(const X509* x509, PublicKeyBytes& out) {
  const EVP_PKEY* pkey = X509_get0_pubkey(x509);
  std::size_t len = out.size();
  return pkey != nullptr && EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 &&
         EVP_PKEY_get_raw_public_key(pkey, reinterpret_cast<unsigned char*>(out.data()), &len) ==
             1 &&
         len == out.size();
}

// The serial's magnitude, big-endian, no leading zeros (CertInfo::serial).
bool read_serial(const X509* x509, std::vector<std::byte>& out) {
  const BignumPtr bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x509), nullptr));
  if (!bn) return false;
  out.resize(static_cast<std::size_t>(BN_num_bytes(bn.get())));
  BN_bn2bin(bn.get(), reinterpret_cast<unsigned char*>(out.data()));
  return true;
}

}  // namespace

const ASN1_OBJECT* ipdmux_oid() {
  static const Asn1ObjectPtr oid(OBJ_txt2obj(kIpdmuxOid, 1));
  if (!oid) fatal("parsing the IPdmux OID");
  return oid.get();
}

X509ExtPtr make_ipdmux_extension(const std::string& text) {
  const Asn1Utf8Ptr utf8(ASN1_UTF8STRING_new());
  if (!utf8 || ASN1_STRING_set(utf8.get(), text.data(), static_cast<int>(text.size())) != 1) {
    throw_openssl("IPdmux extension");
  }
  unsigned char* der = nullptr;
  const int der_len = i2d_ASN1_UTF8STRING(utf8.get(), &der);
  const OpensslPtr<unsigned char> hold(der);
  const Asn1OctetPtr value(ASN1_OCTET_STRING_new());
  if (der_len <= 0 || !value || ASN1_OCTET_STRING_set(value.get(), der, der_len) != 1) {
    throw_openssl("IPdmux extension");
  }
  X509ExtPtr ext(X509_EXTENSION_create_by_OBJ(nullptr, ipdmux_oid(), 0, value.get()));
  if (!ext) throw_openssl("IPdmux extension");
  return ext;
}

bool read_cert_info(const X509* x509, CertInfo& out) {
  std::string scope;
  const bool ok = read_scope_text(x509, scope) && parse_scope(scope, out) &&
                  read_common_name(X509_get_subject_name(x509), out.common_name) &&
                  to_time_t(X509_get0_notBefore(x509), out.not_before) &&
                  to_time_t(X509_get0_notAfter(x509), out.not_after) &&
                  read_public_key(x509, out.public_key) && read_serial(x509, out.serial);
  if (!ok) clear_errors();
  return ok;
}

}  // namespace detail

Certificate Certificate::Impl::wrap(detail::X509Ptr x509) {
  return Certificate(std::make_unique<Impl>(Impl{std::move(x509)}));
}

Certificate::Certificate(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Certificate::~Certificate() = default;
Certificate::Certificate(Certificate&&) noexcept = default;
Certificate& Certificate::operator=(Certificate&&) noexcept = default;

Certificate Certificate::from_der(std::span<const std::byte> der) {
  const auto* p = reinterpret_cast<const unsigned char*>(der.data());
  const auto* const end = p + der.size();
  detail::X509Ptr x509(d2i_X509(nullptr, &p, static_cast<long>(der.size())));
  if (!x509) detail::throw_openssl("not a DER X.509 certificate");
  if (p != end) throw CryptoError("trailing bytes after the DER certificate");
  return Impl::wrap(std::move(x509));
}

Certificate Certificate::load_pem(const std::string& path) {
  detail::BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) detail::throw_open_failed(path);
  detail::X509Ptr x509(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!x509) detail::throw_openssl("cannot read a PEM certificate from " + path);
  return Impl::wrap(std::move(x509));
}

void Certificate::save_pem(const std::string& path) const {
  detail::BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), impl_->x509.get()) != 1) {
    detail::throw_openssl("cannot encode certificate for " + path);
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  detail::write_file(path, std::string(data, static_cast<std::size_t>(len)), 0644);
}

std::vector<std::byte> Certificate::der() const {
  const int len = i2d_X509(impl_->x509.get(), nullptr);
  if (len <= 0) detail::throw_openssl("encoding certificate");
  std::vector<std::byte> out(static_cast<std::size_t>(len));
  auto* p = reinterpret_cast<unsigned char*>(out.data());
  if (i2d_X509(impl_->x509.get(), &p) != len) detail::throw_openssl("encoding certificate");
  return out;
}

CertInfo Certificate::info() const {
  CertInfo info;
  if (!detail::read_cert_info(impl_->x509.get(), info)) {
    throw CryptoError("certificate has no valid IPdmux extension, validity or Ed25519 key");
  }
  return info;
}

}  // namespace dmux::crypto
