// Client IPv6 addresses under the provider's /48 client prefix (docs/protocol.md section 11):
//
//   | prefix P (48 bits) | client_ipv4 (32) | client_port (16) | tag (32) |
//
// The embedding is stateless: any router of the provider answers any client by decoding the
// destination of a reply. Pure functions; the data-path ones never allocate or throw.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dmux::provider {

using Ipv6Address = std::array<std::byte, 16>;

inline constexpr std::size_t kClientPrefixBits = 48;

// The provider's /48 client prefix (its first 6 bytes; the rest of an address is the embedding).
struct ClientPrefix {
  std::array<std::byte, 6> bytes{};
  bool operator==(const ClientPrefix&) const = default;
};

// Where replies to a client go, as embedded in its address.
struct EmbeddedClient {
  std::uint32_t ipv4 = 0;  // host order
  std::uint16_t port = 0;  // host order
  std::uint32_t tag = 0;   // 32 random bits the client chose (not a secret, not its token)
  bool operator==(const EmbeddedClient&) const = default;
};

// "2001:db8:7::/48". Only /48 is valid, with the bits after the prefix zero. Control plane.
std::optional<ClientPrefix> parse_client_prefix(std::string_view text);
std::string to_string(const ClientPrefix& prefix);
std::string to_string(const Ipv6Address& address);

[[nodiscard]] bool in_prefix(const ClientPrefix& prefix, const Ipv6Address& address) noexcept;
[[nodiscard]] Ipv6Address embed(const ClientPrefix& prefix, const EmbeddedClient& client) noexcept;
// False if `address` is outside `prefix`.
[[nodiscard]] bool extract(const ClientPrefix& prefix, const Ipv6Address& address,
                           EmbeddedClient& out) noexcept;

// The source check of section 11: `source` is inside `prefix` and embeds exactly the TUNNEL's
// client address and port (the tag is the client's choice). The proof that the client receives
// there is its token (agent::Ingress::proven), checked separately.
[[nodiscard]] bool source_matches_client(const ClientPrefix& prefix, const Ipv6Address& source,
                                         std::uint32_t client_ipv4,
                                         std::uint16_t client_port) noexcept;

}  // namespace dmux::provider
