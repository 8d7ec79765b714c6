#include "gateway/config.h"

#include <charconv>
#include <sstream>

#include "common/util/hex_key_file.h"
#include "common/wire/protocols.h"

namespace dmux::gateway {
namespace {

std::string missing_key_file(const std::string& text) {
  return "'" + text +
         "' names no key file. Every TUNNEL is authenticated with the router's tunnel key "
         "(docs/protocol.md 5.2), so a static router is 'PROTO PROVIDER_ID ADDR:PORT KEYFILE', "
         "KEYFILE holding the 32-byte key as 64 hex digits; the router's agent needs the same "
         "key (dmux-provider --static-tunnel-key FILE). Make one with "
         "'openssl rand -hex 32 > FILE'";
}

}  // namespace

std::string parse_static_router(const std::string& text, RouterEntry& out) {
  std::istringstream in(text);
  std::string proto, provider, addr, key_file, extra;
  if (!(in >> proto >> provider >> addr)) {
    return "expected 'PROTO PROVIDER_ID ADDR:PORT KEYFILE', got '" + text + "'";
  }
  if (!(in >> key_file)) return missing_key_file(text);
  if (in >> extra) return "expected 'PROTO PROVIDER_ID ADDR:PORT KEYFILE', got '" + text + "'";
  const auto proto_id = wire::parse_protocol(proto);
  if (!proto_id) return "unknown protocol '" + proto + "' (use a name such as ipv6 or a number)";
  std::uint32_t provider_id = 0;
  auto [ptr, ec] = std::from_chars(provider.data(), provider.data() + provider.size(), provider_id);
  if (ec != std::errc() || ptr != provider.data() + provider.size() || provider_id == 0) {
    return "provider id '" + provider + "' must be a number from 1 to 4294967295";
  }
  const auto ep = net::parse_endpoint(addr);
  if (!ep || ep->addr == 0) return "router address '" + addr + "' must be IPV4:PORT";
  crypto::TunnelKeyBytes key{};
  if (auto err = util::read_hex_key_file(key_file, key); !err.empty()) {
    return "router " + addr + ": " + err + " (make one with 'openssl rand -hex 32 > FILE')";
  }
  out = RouterEntry{wire::RouterId{wire::ProtoId{*proto_id}, wire::ProviderId{provider_id}, *ep},
                    RouterOrigin::kStatic, wire::GatewayId{}, kStaticKeyId,
                    std::make_shared<const crypto::TunnelKey>(key)};
  key.fill(std::byte{0});
  return "";
}

}  // namespace dmux::gateway
