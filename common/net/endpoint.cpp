#include "common/net/endpoint.h"

#include <arpa/inet.h>

#include <charconv>

namespace dmux::net {

sockaddr_in Endpoint::to_sockaddr() const noexcept {
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(addr);
  sa.sin_port = htons(port);
  return sa;
}

Endpoint Endpoint::from_sockaddr(const sockaddr_in& sa) noexcept {
  return Endpoint{ntohl(sa.sin_addr.s_addr), ntohs(sa.sin_port)};
}

std::string Endpoint::to_string() const {
  return ipv4_to_string(addr) + ":" + std::to_string(port);
}

std::optional<std::uint32_t> parse_ipv4(std::string_view text) {
  if (text.empty() || text.size() > 15) return std::nullopt;
  char buf[16] = {};
  text.copy(buf, text.size());
  in_addr a{};
  if (inet_pton(AF_INET, buf, &a) != 1) return std::nullopt;
  return ntohl(a.s_addr);
}

std::string ipv4_to_string(std::uint32_t addr) {
  in_addr a{};
  a.s_addr = htonl(addr);
  char buf[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, buf, sizeof buf);
  return buf;
}

std::optional<Endpoint> parse_endpoint(std::string_view text, bool allow_port_zero) {
  const auto colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  const auto addr = parse_ipv4(text.substr(0, colon));
  const auto port_text = text.substr(colon + 1);
  unsigned port = 0;
  const auto* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (!addr || port_text.empty() || ec != std::errc() || ptr != end || port > 65535) {
    return std::nullopt;
  }
  if (port == 0 && !allow_port_zero) return std::nullopt;
  return Endpoint{*addr, static_cast<std::uint16_t>(port)};
}

std::string Ipv4Prefix::to_string() const {
  return ipv4_to_string(addr) + "/" + std::to_string(length);
}

std::optional<Ipv4Prefix> parse_ipv4_prefix(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto addr = parse_ipv4(text.substr(0, slash));
  const auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  const auto* end = len_text.data() + len_text.size();
  auto [ptr, ec] = std::from_chars(len_text.data(), end, len);
  if (!addr || len_text.empty() || ec != std::errc() || ptr != end || len > 32) return std::nullopt;
  const std::uint32_t mask = len == 0 ? 0 : ~std::uint32_t{0} << (32 - len);
  if ((*addr & ~mask) != 0) return std::nullopt;
  return Ipv4Prefix{*addr, static_cast<std::uint8_t>(len)};
}

}  // namespace dmux::net
