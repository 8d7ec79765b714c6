#include "registry/registration_counters.h"

namespace dmux::registry {
namespace {

template <typename Enum, std::size_t N>
std::string_view name_of(Enum o, const std::string_view (&names)[N]) noexcept {
  static_assert(N == static_cast<std::size_t>(Enum::kCount_));
  const auto i = static_cast<std::size_t>(o);
  return i < N ? names[i] : "unknown";
}

}  // namespace

std::string_view to_string(RegisterOutcome o) noexcept {
  static constexpr std::string_view kNames[] = {
      "accepted",        "out_of_scope", "limit_reached", "suppressed",    "truncated",
      "malformed",       "wrong_source", "wrong_gateway", "bad_cookie",    "rate_limited",
      "overloaded",      "forged",       "expired",       "not_yet_valid", "wrong_role",
      "bad_certificate", "revoked",      "stale",         "bad_signature", "replayed"};
  return name_of(o, kNames);
}

std::string_view to_string(KeepaliveOutcome o) noexcept {
  static constexpr std::string_view kNames[] = {"alive",     "deregistered", "unknown_session",
                                                "bad_mac",   "replayed",     "rate_limited",
                                                "truncated", "malformed"};
  return name_of(o, kNames);
}

std::string_view to_string(CookieOutcome o) noexcept {
  static constexpr std::string_view kNames[] = {"answered", "rate_limited", "truncated",
                                                "malformed"};
  return name_of(o, kNames);
}

}  // namespace dmux::registry
