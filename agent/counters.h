// Counters of the part every router agent shares (TunnelReceiver, Ingress). Single-threaded (the
// agent's event loop): plain integers, one writer each, read by the status document on the same
// thread. Drop names are the spec's (docs/protocol.md 2.2, 5.3, 11, 15) and disjoint from the
// programs' own, so a status document lists them all in one "drops" object.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace dmux::agent {

// TUNNELs that fail docs/protocol.md 5.3 steps 1-5, in the order they are checked.
enum class TunnelDrop : std::uint8_t {
  kTruncated = 0,
  kMalformed,
  kUnsupportedVersion,
  kUnexpectedType,  // not a TUNNEL (and not a reply the program takes itself)
  kUnknownKey,      // key_id names no key we hold (or one past its hold time)
  kReplayed,        // counter below the window, or accepted before
  kBadTag,          // the tag does not verify under the key
  kCount_,
};
inline constexpr std::size_t kTunnelDrops = static_cast<std::size_t>(TunnelDrop::kCount_);
std::string_view to_string(TunnelDrop d) noexcept;

// Authenticated TUNNELs refused by the shared checks of step 6 and by what a RETURN may do.
enum class IngressDrop : std::uint8_t {
  kUnsupportedProtocol = 0,  // a proto_id this agent does not serve
  kWrongProvider,            // provider_id neither 0 (any) nor ours
  kUnknownControl,           // a control message (CTRL) of a type we do not answer
  kBadControl,               // a TOKEN_REQUEST of the wrong length
  kRateLimited,              // TOKEN_REQUEST beyond the global offer rate
  kForbiddenDestination,     // a RETURN would go to port 0 or a special-purpose address
  kUnproven,                 // token is not the rt of the TUNNEL's client (section 11, 13.1, 14.1)
  kCount_,
};
inline constexpr std::size_t kIngressDrops = static_cast<std::size_t>(IngressDrop::kCount_);
std::string_view to_string(IngressDrop d) noexcept;

template <typename Reason, std::size_t N>
struct DropCounters {
  std::array<std::uint64_t, N> drops{};
  void drop(Reason r) noexcept { ++drops[static_cast<std::size_t>(r)]; }
  [[nodiscard]] std::uint64_t dropped(Reason r) const noexcept {
    return drops[static_cast<std::size_t>(r)];
  }
};

struct ReceiverCounters : DropCounters<TunnelDrop, kTunnelDrops> {
  std::uint64_t accepted = 0;  // TUNNELs that passed 5.3 steps 1-5
  std::uint64_t keys_installed = 0;
  std::uint64_t keys_retired = 0;
  std::uint64_t keys_forgotten = 0;
  std::uint64_t keys_refused = 0;  // key_id 0, or no room (max_keys live keys)
};

struct IngressCounters : DropCounters<IngressDrop, kIngressDrops> {
  std::uint64_t token_offers = 0;  // TOKEN_OFFERs sent (each answers one TOKEN_REQUEST)
};

}  // namespace dmux::agent
