// What the registration endpoint counts (docs/protocol.md 9.6): every datagram ends in exactly one
// outcome of its type, named as in the spec; status and metrics export the names.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/crypto/crypto.h"

namespace dmux::registry {

// REGISTER outcomes: the four answered ones, then the refusals in the order they are checked.
enum class RegisterOutcome : std::uint8_t {
  kAccepted,
  kOutOfScope,
  kLimitReached,
  kSuppressed,
  kTruncated,
  kMalformed,     // includes router_ipv4, router_port or gateway_id 0
  kWrongSource,   // router_ipv4:router_port is not the datagram's source
  kWrongGateway,  // made for another gateway
  kBadCookie,     // no valid cookie for the source (spoofed, replayed elsewhere, or expired)
  kRateLimited,   // per-source rate
  kOverloaded,    // global signature budget spent
  kForged,        // certificate not from our CA (other CA, self-signed, tampered)
  kExpired,
  kNotYetValid,
  kWrongRole,
  kBadCertificate,  // not X.509 DER or no valid IPdmux extension
  kRevoked,
  kStale,  // timestamp outside the freshness window
  kBadSignature,
  kReplayed,  // timestamp not above the last accepted for this router
  kCount_,
};
enum class KeepaliveOutcome : std::uint8_t {
  kAlive,
  kDeregistered,
  kUnknownSession,  // answered with the unauthenticated hint
  kBadMac,
  kReplayed,
  kRateLimited,  // unknown session, but the global hint rate is spent: not answered
  kTruncated,
  kMalformed,
  kCount_,
};
enum class CookieOutcome : std::uint8_t {
  kAnswered,
  kRateLimited,  // global COOKIE rate spent
  kTruncated,
  kMalformed,
  kCount_,
};
std::string_view to_string(RegisterOutcome o) noexcept;
std::string_view to_string(KeepaliveOutcome o) noexcept;
std::string_view to_string(CookieOutcome o) noexcept;

inline constexpr std::size_t kRegisterOutcomes = static_cast<std::size_t>(RegisterOutcome::kCount_);
inline constexpr std::size_t kKeepaliveOutcomes =
    static_cast<std::size_t>(KeepaliveOutcome::kCount_);
inline constexpr std::size_t kCookieOutcomes = static_cast<std::size_t>(CookieOutcome::kCount_);

struct RegistrationCounters {
  std::array<std::uint64_t, kRegisterOutcomes> registers{};
  std::array<std::uint64_t, kKeepaliveOutcomes> keepalives{};
  std::array<std::uint64_t, kCookieOutcomes> cookies{};  // COOKIE_REQUESTs
  std::uint64_t unsupported_version = 0;                 // version != 2: dropped unanswered
  std::uint64_t other = 0;  // datagrams of other types (or too short to have one)
  // Gauges, read when the counters are: sources in the per-source rate limiter, and the
  // certificate verifier's cache (a refused certificate seen again is a refused_hit).
  std::size_t tracked_sources = 0;
  crypto::CertVerifier::Stats certificates;
};

}  // namespace dmux::registry
