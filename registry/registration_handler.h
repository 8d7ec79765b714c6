// The gateway's side of the registration protocol (docs/protocol.md section 9): turns one
// received datagram into registry events and, when the protocol says so, a reply.
//
// Checks run in the order of the spec's 9.6 table, cheapest first, and every datagram ends in one
// counted outcome. Nothing unauthenticated reaches the registry, and nothing that fails before the
// signature is answered except a COOKIE and the "unknown session" hint, each globally
// rate-limited and no larger than its request. A REGISTER costs public-key work only after its
// source proved it receives there (cookie), its source is within its rate, and the global
// signature budget allows it.
//
// Two phases, so a caller can serve keepalives first: on_datagram() does all the cheap work and
// defers a REGISTER that passed steps 1-5 (it then holds a token of the signature budget);
// finish_register() does steps 6-12 for it. handle() does both, for callers that need no order.
// Control thread only; every byte is untrusted.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

#include "common/crypto/crypto.h"
#include "common/net/endpoint.h"
#include "registry/clock.h"
#include "registry/cookie_jar.h"
#include "registry/rate_limiter.h"
#include "registry/registration_counters.h"
#include "registry/router_registry.h"
#include "registry/token_bucket.h"

namespace dmux::registry {

struct HandlerConfig {
  wire::GatewayId gateway_id;
  std::chrono::seconds freshness{30};             // allowed |REGISTER timestamp - our clock|
  std::chrono::milliseconds cookie_valid{60000};  // cookie secret rotation (COOKIE valid_ms)
  TokenBucketConfig cookie_rate{50000, 5000};     // COOKIE answers a second, all sources
  RateLimiterConfig rate;                         // REGISTERs per source that showed a cookie
  TokenBucketConfig signature_rate{2000, 100};    // REGISTERs a second that reach public-key work
  TokenBucketConfig hint_rate{1000, 100};         // "unknown session" answers a second
};

class RegistrationHandler {
 public:
  // Throws crypto::CryptoError if the CSPRNG fails (cookie secrets).
  RegistrationHandler(const HandlerConfig& config, crypto::CertVerifier& verifier,
                      RouterRegistry& registry, TimePoint now = {});

  struct Result {
    std::size_t reply = 0;  // length of the reply written to `reply`; 0 = send nothing
    bool deferred = false;  // a REGISTER to complete with finish_register()
  };
  Result on_datagram(std::span<const std::byte> datagram, const net::Endpoint& from, const Now& now,
                     std::span<std::byte> reply);
  // Steps 6-12 of a REGISTER that on_datagram() deferred (the same bytes and source). Returns the
  // reply length (REGISTER_ACK), 0 when nothing is to be sent.
  std::size_t finish_register(std::span<const std::byte> datagram, const net::Endpoint& from,
                              const Now& now, std::span<std::byte> reply);
  // on_datagram() and, if it deferred, finish_register().
  std::size_t handle(std::span<const std::byte> datagram, const net::Endpoint& from, const Now& now,
                     std::span<std::byte> reply);

  // The counters, with the gauges (sources tracked, certificate cache) read now.
  [[nodiscard]] RegistrationCounters counters() const;

 private:
  std::size_t on_cookie_request(std::span<const std::byte> d, const net::Endpoint& from,
                                const Now& now, std::span<std::byte> reply);
  Result screen_register(std::span<const std::byte> d, const net::Endpoint& from, const Now& now);
  std::size_t on_keepalive(std::span<const std::byte> d, const net::Endpoint& from, const Now& now,
                           std::span<std::byte> reply);
  std::size_t admit(const wire::RegisterMsg& m, const crypto::CertInfo& cert, const Now& now,
                    std::span<std::byte> reply);
  void on_unsupported_version(std::span<const std::byte> d, const net::Endpoint& from,
                              const Now& now);
  [[nodiscard]] std::uint32_t fresh_key_id() const;
  [[nodiscard]] std::uint64_t fresh_session_id() const;
  void count(RegisterOutcome o) noexcept { ++counters_.registers[static_cast<std::size_t>(o)]; }
  void count(KeepaliveOutcome o) noexcept { ++counters_.keepalives[static_cast<std::size_t>(o)]; }
  void count(CookieOutcome o) noexcept { ++counters_.cookies[static_cast<std::size_t>(o)]; }

  HandlerConfig config_;
  crypto::CertVerifier& verifier_;
  RouterRegistry& registry_;
  CookieJar cookies_;
  TokenBucket cookie_rate_;
  RateLimiter per_source_;
  TokenBucket signatures_;
  TokenBucket hints_;
  std::optional<TimePoint> version_logged_;  // last log line about a version-1 peer
  RegistrationCounters counters_;
};

}  // namespace dmux::registry
