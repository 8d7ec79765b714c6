#include "gateway/config.h"

#include <charconv>
#include <sstream>

#include "common/wire/protocols.h"

namespace dmux::gateway {

std::string parse_static_router(const std::string& text, RouterEntry& out) {
  std::istringstream in(text);
  std::string proto, provider, addr, extra;
  if (!(in >> proto >> provider >> addr) || (in >> extra)) {
    return "expected 'PROTO PROVIDER_ID ADDR:PORT', got '" + text + "'";
  }
  const auto proto_id = wire::parse_protocol(proto);
  if (!proto_id) return "unknown protocol '" + proto + "' (use a name such as ipv6 or a number)";
  std::uint32_t provider_id = 0;
  auto [ptr, ec] = std::from_chars(provider.data(), provider.data() + provider.size(), provider_id);
  if (ec != std::errc() || ptr != provider.data() + provider.size() || provider_id == 0) {
    return "provider id '" + provider + "' must be a number from 1 to 4294967295";
  }
  const auto ep = net::parse_endpoint(addr);
  if (!ep || ep->addr == 0) return "router address '" + addr + "' must be IPV4:PORT";
  out = RouterEntry{*proto_id, provider_id, *ep, RouterOrigin::kStatic, 0, 0, nullptr};
  return "";
}

}  // namespace dmux::gateway
