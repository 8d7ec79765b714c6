// Rendezvous (highest-random-weight) hashing of client addresses onto routers.
//
// Each router gets a fixed 64-bit seed from its identity; a client goes to the router with the
// highest mix(seed, client). Removing a router moves exactly the clients that were on it, adding
// one takes only the clients it now wins, and the choice does not depend on the order of the
// candidates. O(n) per lookup, no allocation; candidate sets per (proto, provider) are small.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire/ids.h"

namespace dmux::gateway {

// SplitMix64 finaliser: a fast bijective 64-bit mixer with good avalanche.
constexpr std::uint64_t mix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Seed of a router: a function of its address, port and provider only, so every gateway and every
// restart computes the same seed.
constexpr std::uint64_t router_seed(std::uint32_t addr, std::uint16_t port,
                                    wire::ProviderId provider) noexcept {
  return mix64((std::uint64_t{addr} << 32) ^ (std::uint64_t{port} << 16) ^ mix64(provider.value()));
}

constexpr std::uint64_t rendezvous_score(std::uint64_t seed, std::uint32_t client) noexcept {
  return mix64(seed ^ mix64(client));
}

// Index of the winning seed; seeds must be non-empty. Ties (astronomically rare) go to the
// larger seed so the result stays order-independent.
inline std::size_t rendezvous_pick(std::span<const std::uint64_t> seeds,
                                   std::uint32_t client) noexcept {
  std::size_t best = 0;
  std::uint64_t best_score = rendezvous_score(seeds[0], client);
  for (std::size_t i = 1; i < seeds.size(); ++i) {
    const std::uint64_t s = rendezvous_score(seeds[i], client);
    if (s > best_score || (s == best_score && seeds[i] > seeds[best])) {
      best = i;
      best_score = s;
    }
  }
  return best;
}

}  // namespace dmux::gateway
