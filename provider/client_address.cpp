#include "provider/client_address.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace dmux::provider {
namespace {

void put_be(std::span<std::byte> out, std::uint64_t v) noexcept {
  for (std::size_t i = 0; i < out.size(); ++i) {
    out[i] = static_cast<std::byte>((v >> (8 * (out.size() - 1 - i))) & 0xff);
  }
}

std::uint64_t get_be(std::span<const std::byte> in) noexcept {
  std::uint64_t v = 0;
  for (std::byte b : in) v = (v << 8) | std::to_integer<std::uint64_t>(b);
  return v;
}

}  // namespace

std::optional<ClientPrefix> parse_client_prefix(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  const auto len_text = text.substr(slash + 1);
  unsigned len = 0;
  const auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), len);
  if (ec != std::errc() || ptr != len_text.data() + len_text.size() || len != kClientPrefixBits) {
    return std::nullopt;
  }
  const std::string addr_text(text.substr(0, slash));
  in6_addr a{};
  if (::inet_pton(AF_INET6, addr_text.c_str(), &a) != 1) return std::nullopt;
  Ipv6Address full{};
  std::memcpy(full.data(), &a, full.size());
  if (std::any_of(full.begin() + 6, full.end(), [](std::byte b) { return b != std::byte{0}; })) {
    return std::nullopt;  // host bits set: probably a typo for another prefix
  }
  ClientPrefix p;
  std::copy_n(full.begin(), p.bytes.size(), p.bytes.begin());
  return p;
}

std::string to_string(const Ipv6Address& address) {
  char buf[INET6_ADDRSTRLEN];
  in6_addr a{};
  std::memcpy(&a, address.data(), address.size());
  ::inet_ntop(AF_INET6, &a, buf, sizeof buf);
  return buf;
}

std::string to_string(const ClientPrefix& prefix) {
  Ipv6Address full{};
  std::copy(prefix.bytes.begin(), prefix.bytes.end(), full.begin());
  return to_string(full) + "/48";
}

bool in_prefix(const ClientPrefix& prefix, const Ipv6Address& address) noexcept {
  return std::equal(prefix.bytes.begin(), prefix.bytes.end(), address.begin());
}

Ipv6Address embed(const ClientPrefix& prefix, const EmbeddedClient& client) noexcept {
  Ipv6Address a{};
  std::copy(prefix.bytes.begin(), prefix.bytes.end(), a.begin());
  const std::span<std::byte> s(a);
  put_be(s.subspan(6, 4), client.ipv4);
  put_be(s.subspan(10, 2), client.port);
  put_be(s.subspan(12, 4), client.tag);
  return a;
}

bool extract(const ClientPrefix& prefix, const Ipv6Address& address, EmbeddedClient& out) noexcept {
  if (!in_prefix(prefix, address)) return false;
  const std::span<const std::byte> s(address);
  out.ipv4 = static_cast<std::uint32_t>(get_be(s.subspan(6, 4)));
  out.port = static_cast<std::uint16_t>(get_be(s.subspan(10, 2)));
  out.tag = static_cast<std::uint32_t>(get_be(s.subspan(12, 4)));
  return true;
}

bool source_matches_client(const ClientPrefix& prefix, const Ipv6Address& source,
                           std::uint32_t client_ipv4, std::uint16_t client_port) noexcept {
  EmbeddedClient c;
  if (!extract(prefix, source, c)) return false;
  return c.ipv4 == client_ipv4 && c.port == client_port;
}

}  // namespace dmux::provider
