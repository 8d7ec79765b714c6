// The gateway's registration cookies (docs/protocol.md 9.1): cookie = SipHash-2-4-128(secret,
// client_ipv4 || client_port) under a secret replaced every `valid` period; the current and the
// previous secret are accepted, so a cookie stays valid at least `valid` and at most twice that.
// No state per request or per source: a COOKIE_REQUEST costs one hash. Control thread only; the
// caller passes the time.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>

#include "common/net/endpoint.h"
#include "common/wire/registration.h"
#include "registry/clock.h"

namespace dmux::registry {

class CookieJar {
 public:
  // Throws crypto::CryptoError if the system's CSPRNG fails.
  CookieJar(std::chrono::milliseconds valid, TimePoint now);

  // The cookie for `source` at `now`.
  wire::CookieBytes make(const net::Endpoint& source, TimePoint now);
  // Whether `cookie` is one this jar made for `source` within the last two periods (constant time).
  bool check(const net::Endpoint& source, const wire::CookieBytes& cookie, TimePoint now);

  [[nodiscard]] std::chrono::milliseconds valid() const noexcept { return valid_; }

 private:
  using Secret = std::array<std::byte, 16>;
  void rotate_if_due(TimePoint now);
  static wire::CookieBytes compute(const Secret& secret, const net::Endpoint& source) noexcept;

  std::chrono::milliseconds valid_;
  Secret current_{};
  Secret previous_{};
  TimePoint rotated_at_;
};

}  // namespace dmux::registry
