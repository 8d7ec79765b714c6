#include "common/crypto/scope.h"

#include <algorithm>
#include <charconv>
#include <limits>
#include <vector>

#include "common/wire/protocols.h"

namespace dmux::crypto::detail {
namespace {

constexpr std::string_view kRoleCa = "role=ca";
constexpr std::string_view kRoleProvider = "role=provider";
constexpr std::string_view kRoleGateway = "role=gateway";
constexpr std::string_view kProviderKey = "provider=";
constexpr std::string_view kProtocolsKey = "protocols=";
constexpr std::string_view kGatewayKey = "gateway=";

// Decimal, no sign, no leading zero, no trailing bytes, at most `max`.
std::optional<std::uint64_t> parse_decimal(std::string_view s, std::uint64_t max) {
  if (s.empty() || (s.size() > 1 && s.front() == '0')) return std::nullopt;
  if (!std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  std::uint64_t v = 0;
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v > max) return std::nullopt;
  return v;
}

// Splits at `sep`; an empty text gives one empty part.
std::vector<std::string_view> split(std::string_view text, char sep) {
  std::vector<std::string_view> parts;
  for (;;) {
    const auto pos = text.find(sep);
    parts.push_back(text.substr(0, pos));
    if (pos == std::string_view::npos) return parts;
    text.remove_prefix(pos + 1);
  }
}

// "key=value" with the expected key: the value, or nothing.
std::optional<std::string_view> value_of(std::string_view field, std::string_view key) {
  if (field.substr(0, key.size()) != key) return std::nullopt;
  return field.substr(key.size());
}

std::optional<std::uint32_t> parse_id(std::string_view s) {
  const auto v = parse_decimal(s, std::numeric_limits<std::uint32_t>::max());
  if (!v || *v == 0) return std::nullopt;
  return static_cast<std::uint32_t>(*v);
}

std::optional<std::vector<std::uint16_t>> parse_protocols(std::string_view s) {
  std::vector<std::uint16_t> out;
  for (const auto part : split(s, ',')) {
    const auto v = parse_decimal(part, wire::kProtoExperimentalLast);
    if (!v || !wire::protocol_id_usable(static_cast<std::uint16_t>(*v))) return std::nullopt;
    if (!out.empty() && *v <= out.back()) return std::nullopt;  // strictly ascending
    out.push_back(static_cast<std::uint16_t>(*v));
  }
  return out;
}

}  // namespace

std::string format_scope(const CertInfo& info) {
  switch (info.role) {
    case Role::kCa:
      return std::string(kRoleCa);
    case Role::kProvider: {
      if (info.provider_id == 0) throw CryptoError("provider id must be 1..4294967295");
      std::vector<std::uint16_t> protos = info.protocols;
      std::sort(protos.begin(), protos.end());
      protos.erase(std::unique(protos.begin(), protos.end()), protos.end());
      if (protos.empty()) throw CryptoError("a provider certificate needs at least one protocol");
      std::string s = std::string(kRoleProvider) + ";" + std::string(kProviderKey) +
                      std::to_string(info.provider_id) + ";" + std::string(kProtocolsKey);
      for (std::size_t i = 0; i < protos.size(); ++i) {
        if (!wire::protocol_id_usable(protos[i])) {
          throw CryptoError("proto_id " + std::to_string(protos[i]) + " is reserved");
        }
        if (i > 0) s += ",";
        s += std::to_string(protos[i]);
      }
      return s;
    }
    case Role::kGateway:
      if (info.gateway_id == 0) throw CryptoError("gateway id must be 1..4294967295");
      return std::string(kRoleGateway) + ";" + std::string(kGatewayKey) +
             std::to_string(info.gateway_id);
  }
  throw CryptoError("unknown certificate role");
}

bool parse_scope(std::string_view text, CertInfo& out) {
  const auto fields = split(text, ';');
  if (fields[0] == kRoleCa && fields.size() == 1) {
    out.role = Role::kCa;
    out.provider_id = 0;
    out.protocols.clear();
    out.gateway_id = 0;
    return true;
  }
  if (fields[0] == kRoleProvider && fields.size() == 3) {
    const auto provider = value_of(fields[1], kProviderKey);
    const auto protocols = value_of(fields[2], kProtocolsKey);
    if (!provider || !protocols) return false;
    const auto id = parse_id(*provider);
    auto protos = parse_protocols(*protocols);
    if (!id || !protos) return false;
    out.role = Role::kProvider;
    out.provider_id = *id;
    out.protocols = std::move(*protos);
    out.gateway_id = 0;
    return true;
  }
  if (fields[0] == kRoleGateway && fields.size() == 2) {
    const auto gateway = value_of(fields[1], kGatewayKey);
    if (!gateway) return false;
    const auto id = parse_id(*gateway);
    if (!id) return false;
    out.role = Role::kGateway;
    out.provider_id = 0;
    out.protocols.clear();
    out.gateway_id = *id;
    return true;
  }
  return false;
}

}  // namespace dmux::crypto::detail
