// The gateway's side of the registration protocol (docs/protocol.md section 9): turns one
// received control datagram into registry events and, when the protocol says so, a reply.
//
// Checks run cheapest first: exact length and parse, per-source rate limit, certificate (cached
// once verified), freshness, Ed25519 signature, scope, replay. Everything refused is counted by
// reason; nothing unauthenticated reaches the registry. Control thread only; untrusted input.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "common/crypto/crypto.h"
#include "common/net/endpoint.h"
#include "registry/clock.h"
#include "registry/rate_limiter.h"
#include "registry/router_registry.h"

namespace dmux::registry {

enum class RegisterOutcome : std::uint8_t {
  kAccepted,
  kOutOfScope,
  kLimitReached,
  kSuppressed,
  kForged,  // certificate not from our CA (other CA, self-signed, tampered)
  kExpired,
  kNotYetValid,
  kWrongRole,
  kBadCertificate,  // not X.509 DER or no valid IPdmux extension
  kBadSignature,
  kReplayed,
  kStale,  // timestamp outside the freshness window
  kRateLimited,
  kTruncated,
  kMalformed,
  kCount_,
};
enum class KeepaliveOutcome : std::uint8_t {
  kAlive,
  kDeregistered,
  kUnknownSession,
  kBadMac,
  kReplayed,
  kRateLimited,
  kTruncated,
  kMalformed,
  kCount_,
};
std::string_view to_string(RegisterOutcome o) noexcept;
std::string_view to_string(KeepaliveOutcome o) noexcept;

inline constexpr std::size_t kRegisterOutcomes = static_cast<std::size_t>(RegisterOutcome::kCount_);
inline constexpr std::size_t kKeepaliveOutcomes =
    static_cast<std::size_t>(KeepaliveOutcome::kCount_);

struct RegistrationCounters {
  std::array<std::uint64_t, kRegisterOutcomes> registers{};
  std::array<std::uint64_t, kKeepaliveOutcomes> keepalives{};
  std::uint64_t other = 0;  // datagrams of other types or versions
};

struct HandlerConfig {
  std::uint32_t gateway_id = 0;
  std::chrono::seconds freshness{30};  // allowed |REGISTER timestamp - our clock|
  RateLimiterConfig rate;
};

class RegistrationHandler {
 public:
  RegistrationHandler(const HandlerConfig& config, crypto::CertVerifier& verifier,
                      RouterRegistry& registry);

  // Handles one datagram from `from`; writes a reply into `reply` and returns its length, or 0
  // when nothing is to be sent.
  std::size_t on_datagram(std::span<const std::byte> datagram, const net::Endpoint& from,
                          const Now& now, std::span<std::byte> reply);

  [[nodiscard]] const RegistrationCounters& counters() const noexcept { return counters_; }

 private:
  std::size_t on_register(std::span<const std::byte> d, const net::Endpoint& from, const Now& now,
                          std::span<std::byte> reply);
  std::size_t on_keepalive(std::span<const std::byte> d, const net::Endpoint& from, const Now& now,
                           std::span<std::byte> reply);
  void count(RegisterOutcome o) noexcept { ++counters_.registers[static_cast<std::size_t>(o)]; }
  void count(KeepaliveOutcome o) noexcept { ++counters_.keepalives[static_cast<std::size_t>(o)]; }

  HandlerConfig config_;
  crypto::CertVerifier& verifier_;
  RouterRegistry& registry_;
  RateLimiter limiter_;
  RegistrationCounters counters_;
};

}  // namespace dmux::registry
