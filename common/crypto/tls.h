// TLS 1.3 with mutual certificate authentication, for the gateway mesh (docs/protocol.md 12).
//
// Both ends present an IPdmux gateway certificate and its Ed25519 key; the handshake proves each
// holds the key of the certificate it sent. Whether that certificate is trusted (signed by the
// operator's CA, role=gateway, in its validity period) is NOT decided here: the caller reads
// peer_certificate_der() after the handshake and checks it with CertVerifier, so there is one
// certificate policy for registrations and the mesh.
//
// Non-blocking: the caller owns a non-blocking socket and retries a call that returned kWantRead
// or kWantWrite when the socket is ready. Control thread only; never throws after construction.
#pragma once

#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace dmux::crypto {

// Our certificate and key, loaded once and shared by every session.
class TlsContext {
 public:
  // Loads the PEM files (from dmux-ca issue-gateway); throws CryptoError naming what failed.
  TlsContext(const std::string& cert_path, const std::string& key_path);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  struct Impl;
  [[nodiscard]] const Impl& impl() const { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

enum class TlsStatus : std::uint8_t {
  kOk,
  kWantRead,   // retry when the socket is readable
  kWantWrite,  // retry when the socket is writable
  kClosed,     // the peer closed the connection (cleanly or not)
  kError,      // protocol or handshake failure; error() says why
};

// One connection. Does not own the socket.
class TlsSession {
 public:
  // Throws CryptoError only if OpenSSL cannot allocate.
  TlsSession(const TlsContext& context, int fd, bool is_server);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  TlsStatus handshake() noexcept;
  // Reads up to out.size() bytes; n is set on kOk (n > 0).
  TlsStatus read(std::span<std::byte> out, std::size_t& n) noexcept;
  // Writes up to in.size() bytes; n is set on kOk (may be less than in.size()).
  TlsStatus write(std::span<const std::byte> in, std::size_t& n) noexcept;
  // Sends close_notify if possible; best effort, never blocks.
  void shutdown() noexcept;

  // The certificate the peer presented (DER), empty before the handshake completed.
  [[nodiscard]] std::vector<std::byte> peer_certificate_der() const;
  // RFC 8446 7.5 keying material bound to this session (e.g. for out-of-band probe MACs).
  bool export_keying_material(std::string_view label, std::span<std::byte> out) const noexcept;
  // The reason for the last kError (or "").
  [[nodiscard]] const std::string& error() const noexcept { return error_; }

 private:
  TlsStatus status_of(int ret) noexcept;

  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string error_;
};

}  // namespace dmux::crypto
