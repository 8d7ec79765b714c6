// Internal to common/crypto: RAII owners for OpenSSL objects and error helpers. Every OpenSSL
// object this folder creates is held by one of these owners from the line it is created on.
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>

namespace dmux::crypto::detail {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const noexcept {
    Free(p);
  }
};

using PkeyPtr = std::unique_ptr<EVP_PKEY, Deleter<&EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<&EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Deleter<&EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Deleter<&BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<&X509_free>>;
using X509ExtPtr = std::unique_ptr<X509_EXTENSION, Deleter<&X509_EXTENSION_free>>;
using X509StorePtr = std::unique_ptr<X509_STORE, Deleter<&X509_STORE_free>>;
using X509StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<&X509_STORE_CTX_free>>;
using Asn1ObjectPtr = std::unique_ptr<ASN1_OBJECT, Deleter<&ASN1_OBJECT_free>>;
using Asn1OctetPtr = std::unique_ptr<ASN1_OCTET_STRING, Deleter<&ASN1_OCTET_STRING_free>>;
using Asn1Utf8Ptr = std::unique_ptr<ASN1_UTF8STRING, Deleter<&ASN1_UTF8STRING_free>>;
using Asn1IntegerPtr = std::unique_ptr<ASN1_INTEGER, Deleter<&ASN1_INTEGER_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, Deleter<&BN_free>>;

// OPENSSL_free is a macro, so it gets its own deleter.
struct OpensslFree {
  void operator()(void* p) const noexcept;
};
template <typename T>
using OpensslPtr = std::unique_ptr<T, OpensslFree>;

// Throws CryptoError("<what>: <first queued OpenSSL error>") and empties the error queue.
[[noreturn]] void throw_openssl(const std::string& what);
// After BIO_new_file failed: throws CryptoError("cannot open <path>: <strerror(errno)>").
[[noreturn]] void throw_open_failed(const std::string& path);
// Empties this thread's OpenSSL error queue (after an expected failure, e.g. a bad signature).
void clear_errors() noexcept;
// For noexcept functions whose OpenSSL call cannot fail short of a broken library: prints and
// aborts rather than returning a value a caller might trust.
[[noreturn]] void fatal(const char* what) noexcept;

// OpenSSL takes `const unsigned char*` and may dislike a null pointer even with length 0.
const unsigned char* bytes_of(const void* data) noexcept;

// Writes `data` to `path` (created or truncated) with file mode `mode`. Throws CryptoError naming
// the path.
void write_file(const std::string& path, const std::string& data, unsigned mode);

}  // namespace dmux::crypto::detail
