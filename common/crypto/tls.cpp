#include "common/crypto/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/crypto/crypto.h"
#include "common/crypto/ossl.h"

namespace dmux::crypto {

using SslCtxPtr = std::unique_ptr<SSL_CTX, detail::Deleter<&SSL_CTX_free>>;
using SslPtr = std::unique_ptr<SSL, detail::Deleter<&SSL_free>>;

struct TlsContext::Impl {
  SslCtxPtr ctx;
};

struct TlsSession::Impl {
  SslPtr ssl;
};

namespace {

// Trust is decided by the caller with CertVerifier after the handshake (see tls.h); here any
// presented certificate passes chain building, while the handshake still checks that the peer
// holds its private key (CertificateVerify).
int accept_any_chain(int /*preverify_ok*/, X509_STORE_CTX* /*ctx*/) { return 1; }

std::string take_error(const char* what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return what;
  char buf[256];
  ERR_error_string_n(code, buf, sizeof buf);
  return std::string(what) + ": " + buf;
}

}  // namespace

TlsContext::TlsContext(const std::string& cert_path, const std::string& key_path)
    : impl_(std::make_unique<Impl>()) {
  impl_->ctx.reset(SSL_CTX_new(TLS_method()));
  SSL_CTX* ctx = impl_->ctx.get();
  if (ctx == nullptr) detail::throw_openssl("SSL_CTX_new");
  if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
    detail::throw_openssl("TLS 1.3 unavailable");
  }
  if (SSL_CTX_use_certificate_file(ctx, cert_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    detail::throw_openssl("cannot load certificate " + cert_path);
  }
  if (SSL_CTX_use_PrivateKey_file(ctx, key_path.c_str(), SSL_FILETYPE_PEM) != 1) {
    detail::throw_openssl("cannot load key " + key_path);
  }
  if (SSL_CTX_check_private_key(ctx) != 1) {
    detail::throw_openssl("key " + key_path + " does not match certificate " + cert_path);
  }
  SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any_chain);
  // RELEASE_BUFFERS: an idle link holds no 34 KiB read and write buffers (a flood of idle
  // connections, or many peers, costs little memory).
  SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
                            SSL_MODE_RELEASE_BUFFERS);
  SSL_CTX_set_num_tickets(ctx, 0);  // links are long-lived; no resumption
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
}

TlsContext::~TlsContext() = default;

TlsSession::TlsSession(const TlsContext& context, int fd, bool is_server)
    : impl_(std::make_unique<Impl>()) {
  impl_->ssl.reset(SSL_new(context.impl().ctx.get()));
  if (!impl_->ssl) detail::throw_openssl("SSL_new");
  if (SSL_set_fd(impl_->ssl.get(), fd) != 1) detail::throw_openssl("SSL_set_fd");
  if (is_server) {
    SSL_set_accept_state(impl_->ssl.get());
  } else {
    SSL_set_connect_state(impl_->ssl.get());
  }
}

TlsSession::~TlsSession() = default;

TlsStatus TlsSession::status_of(int ret) noexcept {
  switch (SSL_get_error(impl_->ssl.get(), ret)) {
    case SSL_ERROR_NONE:
      return TlsStatus::kOk;
    case SSL_ERROR_WANT_READ:
      return TlsStatus::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return TlsStatus::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:
      ERR_clear_error();
      return TlsStatus::kClosed;
    case SSL_ERROR_SYSCALL:
      error_ = take_error("connection lost");
      return TlsStatus::kClosed;
    default:
      error_ = take_error("TLS error");
      return TlsStatus::kError;
  }
}

TlsStatus TlsSession::handshake() noexcept {
  const int ret = SSL_do_handshake(impl_->ssl.get());
  if (ret == 1) return TlsStatus::kOk;
  const TlsStatus s = status_of(ret);
  return s == TlsStatus::kClosed && !error_.empty() ? TlsStatus::kError : s;
}

TlsStatus TlsSession::read(std::span<std::byte> out, std::size_t& n) noexcept {
  const int ret = SSL_read_ex(impl_->ssl.get(), out.data(), out.size(), &n);
  return ret == 1 ? TlsStatus::kOk : status_of(ret);
}

TlsStatus TlsSession::write(std::span<const std::byte> in, std::size_t& n) noexcept {
  const int ret = SSL_write_ex(impl_->ssl.get(), in.data(), in.size(), &n);
  return ret == 1 ? TlsStatus::kOk : status_of(ret);
}

void TlsSession::shutdown() noexcept {
  if (SSL_is_init_finished(impl_->ssl.get())) SSL_shutdown(impl_->ssl.get());
  ERR_clear_error();
}

std::vector<std::byte> TlsSession::peer_certificate_der() const {
  detail::X509Ptr cert(SSL_get1_peer_certificate(impl_->ssl.get()));
  if (!cert) return {};
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert.get(), &der);
  if (len <= 0) return {};
  detail::OpensslPtr<unsigned char> owned(der);
  const auto* b = reinterpret_cast<const std::byte*>(der);
  return std::vector<std::byte>(b, b + len);
}

bool TlsSession::export_keying_material(std::string_view label,
                                        std::span<std::byte> out) const noexcept {
  const int ok =
      SSL_export_keying_material(impl_->ssl.get(), reinterpret_cast<unsigned char*>(out.data()),
                                 out.size(), label.data(), label.size(), nullptr, 0, 0);
  ERR_clear_error();
  return ok == 1;
}

}  // namespace dmux::crypto
