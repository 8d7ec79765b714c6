// One TLS link to another gateway: a non-blocking TCP socket, the TLS 1.3 handshake, and framed
// messages both ways (common/wire/mesh.h). Knows nothing of what the frames mean.
//
// Owned by MeshServer; control thread only. Events are reported to a LinkEvents implementation.
// A link closes exactly once (close() is idempotent) and reports on_link_closed; its socket stays
// open until the owner destroys it, which the owner must defer until the callback has returned.
// Buffers shrink back once drained, and TLS buffers are released while idle, so a burst (a
// FULL_STATE) or a slow peer does not keep memory.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/crypto/tls.h"
#include "common/evloop/event_loop.h"
#include "common/net/endpoint.h"
#include "common/net/unique_fd.h"
#include "common/wire/mesh.h"

namespace dmux::mesh {

class Link;

// Why a link closed: counted and logged; kDuplicate does not take the peer down.
enum class CloseReason : std::uint8_t {
  kConnectFailed,
  kTlsFailed,
  kPeerClosed,
  kBadFrame,
  kSendQueueFull,
  kOutOfMemory,
  kCertificateRefused,
  kSelf,
  kHelloMismatch,
  kBeforeHello,
  kSecondHello,
  kProtocolViolation,
  kBadBody,
  kDuplicate,
  kHandshakeTimeout,
  kSilent,
  kRevoked,
  kInternal,
  kCount_,
};
inline constexpr std::size_t kCloseReasons = static_cast<std::size_t>(CloseReason::kCount_);
std::string_view to_string(CloseReason r) noexcept;

class LinkEvents {
 public:
  // TLS is up; the peer's certificate is available (not yet checked).
  virtual void on_link_open(Link& link) = 0;
  // One complete frame of a known type; `body` is valid during the call only.
  virtual void on_link_frame(Link& link, wire::mesh::Type type,
                             std::span<const std::byte> body) = 0;
  // A frame header was rejected (an unknown type is counted and skipped, the rest close the link).
  virtual void on_link_bad_frame(Link& link, wire::mesh::Status status) = 0;
  // `detail` adds to the reason for the log (e.g. the TLS error); may be empty.
  virtual void on_link_closed(Link& link, CloseReason reason, const std::string& detail) = 0;

 protected:
  ~LinkEvents() = default;
};

class Link {
 public:
  enum class State : std::uint8_t { kConnecting, kHandshaking, kOpen, kClosed };

  // `fd` is a non-blocking TCP socket: connected or connecting (outbound), or accepted (inbound).
  Link(evloop::EventLoop& loop, const crypto::TlsContext& tls, net::UniqueFd fd, bool outbound,
       net::Endpoint remote, std::uint64_t id, LinkEvents& events);
  ~Link();
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Queues a whole frame (or several) and writes what the socket takes now.
  void send(std::span<const std::byte> frames) noexcept;
  void close(CloseReason reason, const std::string& detail = {}) noexcept;

  [[nodiscard]] State state() const noexcept { return state_; }
  [[nodiscard]] bool outbound() const noexcept { return outbound_; }
  [[nodiscard]] std::uint64_t id() const noexcept { return id_; }
  [[nodiscard]] const net::Endpoint& remote() const noexcept { return remote_; }
  [[nodiscard]] std::vector<std::byte> peer_certificate_der() const {
    return tls_.peer_certificate_der();
  }
  [[nodiscard]] std::uint64_t bytes_in() const noexcept { return bytes_in_; }
  [[nodiscard]] std::uint64_t bytes_out() const noexcept { return bytes_out_; }

  // Set by the owner once the peer is authenticated and has said HELLO.
  std::uint32_t peer_id = 0;
  bool established = false;
  std::int64_t opened_us = 0;   // owner's clock: when the link was created
  std::int64_t last_rx_us = 0;  // owner's clock: last frame received

 private:
  void on_readable() noexcept;
  void on_writable() noexcept;
  void finish_connect() noexcept;
  void do_handshake() noexcept;
  void read_frames() noexcept;
  void deliver_frames() noexcept;
  void flush() noexcept;

  LinkEvents& events_;
  net::UniqueFd fd_;
  crypto::TlsSession tls_;
  bool outbound_;
  net::Endpoint remote_;
  std::uint64_t id_;
  State state_;
  std::vector<std::byte> in_;
  std::vector<std::byte> out_;
  std::size_t out_pos_ = 0;
  std::uint64_t bytes_in_ = 0, bytes_out_ = 0;
  std::unique_ptr<evloop::IoWatcher> watcher_;
};

}  // namespace dmux::mesh
