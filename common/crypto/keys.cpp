// Ed25519 signing keys and signature verification.
#include <openssl/pem.h>
#include <sodium.h>

#include <array>
#include <cstring>

#include "common/crypto/impl.h"

namespace dmux::crypto {
namespace {

// Never prompt on a terminal for a passphrase: IPdmux keys are stored unencrypted, mode 0600.
int no_passphrase(char*, int, int, void*) { return -1; }

}  // namespace

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::~SigningKey() = default;
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;

SigningKey SigningKey::generate() {
  detail::PkeyPtr pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
  if (!pkey) detail::throw_openssl("Ed25519 key generation");
  return SigningKey(std::make_unique<Impl>(Impl{std::move(pkey)}));
}

SigningKey SigningKey::load_pem(const std::string& path) {
  detail::BioPtr bio(BIO_new_file(path.c_str(), "r"));
  if (!bio) detail::throw_open_failed(path);
  detail::PkeyPtr pkey(PEM_read_bio_PrivateKey(bio.get(), nullptr, &no_passphrase, nullptr));
  if (!pkey) detail::throw_openssl("cannot read a private key from " + path);
  if (EVP_PKEY_get_id(pkey.get()) != EVP_PKEY_ED25519) {
    throw CryptoError(path + " is not an Ed25519 private key");
  }
  return SigningKey(std::make_unique<Impl>(Impl{std::move(pkey)}));
}

void SigningKey::save_pem(const std::string& path) const {
  // A secure-memory BIO, so the PEM text is cleansed when freed.
  detail::BioPtr bio(BIO_new(BIO_s_secmem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), impl_->pkey.get(), nullptr, nullptr, 0, nullptr,
                                       nullptr) != 1) {
    detail::throw_openssl("cannot encode private key for " + path);
  }
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  std::string text(data, static_cast<std::size_t>(len));
  try {
    detail::write_file(path, text, 0600);
  } catch (...) {
    OPENSSL_cleanse(text.data(), text.size());
    throw;
  }
  OPENSSL_cleanse(text.data(), text.size());
}

PublicKeyBytes SigningKey::public_key() const {
  PublicKeyBytes out{};
  std::size_t len = out.size();
  if (EVP_PKEY_get_raw_public_key(impl_->pkey.get(), reinterpret_cast<unsigned char*>(out.data()),
                                  &len) != 1 ||
      len != out.size()) {
    detail::throw_openssl("Ed25519 public key");
  }
  return out;
}

Signature SigningKey::sign(std::span<const std::byte> message) const {
  detail::MdCtxPtr ctx(EVP_MD_CTX_new());
  Signature sig{};
  std::size_t len = sig.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, impl_->pkey.get()) != 1 ||
      EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     detail::bytes_of(message.data()), message.size()) != 1 ||
      len != sig.size()) {
    detail::throw_openssl("Ed25519 signing");
  }
  return sig;
}

ReturnKey derive_return_key(const SigningKey& provider_key) {
  std::array<unsigned char, 32> raw{};
  std::size_t len = raw.size();
  if (EVP_PKEY_get_raw_private_key(provider_key.impl().pkey.get(), raw.data(), &len) != 1 ||
      len != raw.size()) {
    detail::throw_openssl("Ed25519 private key");
  }
  const ReturnKey k = derive_return_key(std::as_bytes(std::span(raw)));
  OPENSSL_cleanse(raw.data(), raw.size());
  return k;
}

// libsodium's Ed25519 verification: about twice as fast as OpenSSL's here, which matters when a
// gateway checks every router record of a mesh (docs/protocol.md 12.8). It also refuses
// non-canonical signatures and small-order keys.
bool verify_signature(const PublicKeyBytes& public_key, std::span<const std::byte> message,
                      const Signature& signature) noexcept {
  static const bool ready = sodium_init() >= 0;
  if (!ready) return false;
  return crypto_sign_verify_detached(reinterpret_cast<const unsigned char*>(signature.data()),
                                     detail::bytes_of(message.data()), message.size(),
                                     reinterpret_cast<const unsigned char*>(public_key.data())) ==
         0;
}

}  // namespace dmux::crypto
