// IPv4 address:port values and their text form. Parsing is for config and CLI (control plane).
#pragma once

#include <netinet/in.h>

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dmux::net {

struct Endpoint {
  std::uint32_t addr = 0;  // IPv4, host byte order
  std::uint16_t port = 0;  // host byte order

  auto operator<=>(const Endpoint&) const = default;

  [[nodiscard]] sockaddr_in to_sockaddr() const noexcept;
  static Endpoint from_sockaddr(const sockaddr_in& sa) noexcept;
  [[nodiscard]] std::string to_string() const;
};

// "198.18.0.1:4000". Port 0 is accepted only when allow_port_zero is set.
std::optional<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero = false);
// "198.18.0.1" -> host-order address.
std::optional<std::uint32_t> parse_ipv4(std::string_view text);
std::string ipv4_to_string(std::uint32_t addr);

struct Ipv4Prefix {
  std::uint32_t addr = 0;  // host byte order, host bits zero
  std::uint8_t length = 0;

  auto operator<=>(const Ipv4Prefix&) const = default;
  [[nodiscard]] std::string to_string() const;
};

// "198.18.0.0/24". Refuses host bits set ("198.18.0.1/24"), so a typo cannot widen a prefix.
std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text);

}  // namespace dmux::net
