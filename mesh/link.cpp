#include "mesh/link.h"

#include <sys/socket.h>

#include <cstring>

namespace dmux::mesh {
namespace {
constexpr std::size_t kReadChunk = 16384;
constexpr std::size_t kMaxReadPerWakeup = 1 << 20;  // fairness between links
constexpr std::size_t kMaxQueued = 64 << 20;        // a peer this far behind is dropped
constexpr std::size_t kKeepCapacity = 64 << 10;     // drained buffers larger than this shrink

void release_if_large(std::vector<std::byte>& v) {
  if (v.empty() && v.capacity() > kKeepCapacity) std::vector<std::byte>().swap(v);
}
}  // namespace

std::string_view to_string(CloseReason r) noexcept {
  static constexpr std::string_view kNames[] = {
      "connect failed",   "TLS failed",           "peer closed",         "bad frame",
      "send queue full",  "out of memory",        "certificate refused", "a link to ourselves",
      "HELLO mismatch",   "a frame before HELLO", "a second HELLO",      "protocol violation",
      "bad message body", "duplicate link",       "handshake timeout",   "peer silent",
      "revoked",          "internal error"};
  static_assert(std::size(kNames) == kCloseReasons);
  const auto i = static_cast<std::size_t>(r);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

Link::Link(evloop::EventLoop& loop, const crypto::TlsContext& tls, net::UniqueFd fd, bool outbound,
           net::Endpoint remote, std::uint64_t id, LinkEvents& events)
    : events_(events),
      fd_(std::move(fd)),
      tls_(tls, fd_.get(), !outbound),
      outbound_(outbound),
      remote_(remote),
      id_(id),
      state_(outbound ? State::kConnecting : State::kHandshaking) {
  watcher_ = std::make_unique<evloop::IoWatcher>(
      loop, fd_.get(), [this] { on_readable(); }, [this] { on_writable(); });
  // Outbound: the connect completes when the socket is writable. Inbound: the ClientHello is
  // awaited (readable).
  if (outbound_) watcher_->want_write(true);
}

Link::~Link() = default;

void Link::close(CloseReason reason, const std::string& detail) noexcept {
  if (state_ == State::kClosed) return;
  if (state_ == State::kOpen) tls_.shutdown();
  state_ = State::kClosed;
  watcher_->want_write(false);
  ::shutdown(fd_.get(), SHUT_RDWR);
  events_.on_link_closed(*this, reason, detail);
}

void Link::send(std::span<const std::byte> frames) noexcept {
  if (state_ == State::kClosed) return;
  if (out_.size() - out_pos_ + frames.size() > kMaxQueued) {
    close(CloseReason::kSendQueueFull);
    return;
  }
  try {
    out_.insert(out_.end(), frames.begin(), frames.end());
  } catch (const std::bad_alloc&) {
    close(CloseReason::kOutOfMemory, "queueing a frame");
    return;
  }
  if (state_ == State::kOpen) flush();
}

void Link::on_readable() noexcept {
  switch (state_) {
    case State::kConnecting:
      finish_connect();
      return;
    case State::kHandshaking:
      do_handshake();
      return;
    case State::kOpen:
      read_frames();
      if (state_ == State::kOpen && out_pos_ < out_.size()) flush();
      return;
    case State::kClosed:
      return;
  }
}

void Link::on_writable() noexcept {
  switch (state_) {
    case State::kConnecting:
      finish_connect();
      return;
    case State::kHandshaking:
      do_handshake();
      return;
    case State::kOpen:
      flush();
      return;
    case State::kClosed:
      watcher_->want_write(false);
      return;
  }
}

void Link::finish_connect() noexcept {
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len) != 0) err = errno;
  if (err != 0) {
    close(CloseReason::kConnectFailed, std::strerror(err));
    return;
  }
  state_ = State::kHandshaking;
  do_handshake();
}

void Link::do_handshake() noexcept {
  switch (tls_.handshake()) {
    case crypto::TlsStatus::kOk:
      state_ = State::kOpen;
      watcher_->want_write(out_pos_ < out_.size());
      events_.on_link_open(*this);
      // Application data may have arrived with the handshake's last flight.
      if (state_ == State::kOpen) read_frames();
      return;
    case crypto::TlsStatus::kWantRead:
      watcher_->want_write(false);
      return;
    case crypto::TlsStatus::kWantWrite:
      watcher_->want_write(true);
      return;
    case crypto::TlsStatus::kClosed:
      close(CloseReason::kTlsFailed, "closed during the handshake");
      return;
    case crypto::TlsStatus::kError:
      close(CloseReason::kTlsFailed, tls_.error());
      return;
  }
}

void Link::read_frames() noexcept {
  std::size_t total = 0;
  while (state_ == State::kOpen && total < kMaxReadPerWakeup) {
    const std::size_t at = in_.size();
    try {
      in_.resize(at + kReadChunk);
    } catch (const std::bad_alloc&) {
      close(CloseReason::kOutOfMemory, "reading");
      return;
    }
    std::size_t n = 0;
    const auto s = tls_.read(std::span(in_).subspan(at), n);
    in_.resize(at + (s == crypto::TlsStatus::kOk ? n : 0));
    if (s == crypto::TlsStatus::kOk) {
      bytes_in_ += n;
      total += n;
      deliver_frames();
      continue;
    }
    if (s == crypto::TlsStatus::kWantRead) return;
    if (s == crypto::TlsStatus::kWantWrite) {
      watcher_->want_write(true);
      return;
    }
    if (s == crypto::TlsStatus::kClosed) {
      close(CloseReason::kPeerClosed);
    } else {
      close(CloseReason::kTlsFailed, tls_.error());
    }
    return;
  }
}

void Link::deliver_frames() noexcept {
  std::size_t pos = 0;
  while (state_ == State::kOpen && in_.size() - pos >= wire::mesh::kFrameHeaderLen) {
    std::uint8_t type = 0;
    std::uint32_t body_len = 0;
    const auto status = wire::mesh::parse_header(std::span(in_).subspan(pos), type, body_len);
    if (status != wire::mesh::Status::kOk && status != wire::mesh::Status::kUnexpectedType) {
      events_.on_link_bad_frame(*this, status);
      close(CloseReason::kBadFrame, std::string(wire::mesh::to_string(status)));
      return;
    }
    if (in_.size() - pos - wire::mesh::kFrameHeaderLen < body_len) break;  // wait for the rest
    const auto body =
        std::span<const std::byte>(in_).subspan(pos + wire::mesh::kFrameHeaderLen, body_len);
    pos += wire::mesh::kFrameHeaderLen + body_len;
    if (status == wire::mesh::Status::kUnexpectedType) {
      events_.on_link_bad_frame(*this, status);  // a newer peer's message: skipped
    } else {
      events_.on_link_frame(*this, static_cast<wire::mesh::Type>(type), body);
    }
  }
  if (state_ == State::kClosed) return;
  in_.erase(in_.begin(), in_.begin() + static_cast<std::ptrdiff_t>(pos));
  release_if_large(in_);
}

void Link::flush() noexcept {
  while (out_pos_ < out_.size()) {
    std::size_t n = 0;
    const auto s = tls_.write(std::span(out_).subspan(out_pos_), n);
    if (s == crypto::TlsStatus::kOk) {
      out_pos_ += n;
      bytes_out_ += n;
      continue;
    }
    if (s == crypto::TlsStatus::kWantWrite) {
      watcher_->want_write(true);
      return;
    }
    if (s == crypto::TlsStatus::kWantRead) return;  // resumed by on_readable
    if (s == crypto::TlsStatus::kClosed) {
      close(CloseReason::kPeerClosed);
    } else {
      close(CloseReason::kTlsFailed, tls_.error());
    }
    return;
  }
  out_.clear();
  out_pos_ = 0;
  release_if_large(out_);
  watcher_->want_write(false);
}

}  // namespace dmux::mesh
