#include "agent/agent_options.h"

#include <stdexcept>

#include "agent/key_files.h"
#include "common/util/config_error.h"

namespace dmux::agent {

std::vector<net::Ipv4Prefix> parse_allowed_destinations(const std::vector<std::string>& texts) {
  std::vector<net::Ipv4Prefix> out;
  for (const std::string& text : texts) {
    const auto p = net::parse_ipv4_prefix(text);
    if (!p) {
      throw ConfigError(opt::kAllowDestination,
                        "'" + text + "' is not an IPv4 prefix like 198.18.0.0/15 (host bits zero)");
    }
    out.push_back(*p);
  }
  return out;
}

AgentOptions make_agent_options(std::string return_key_file, std::string static_tunnel_key_file,
                                const std::vector<std::string>& allowed_destinations) {
  return AgentOptions{.return_key_file = std::move(return_key_file),
                      .static_tunnel_key_file = std::move(static_tunnel_key_file),
                      .allowed_destinations = parse_allowed_destinations(allowed_destinations)};
}

AgentSecrets load_secrets(const AgentOptions& options, const crypto::SigningKey& provider_key) {
  AgentSecrets s;
  try {
    s.return_key = options.return_key_file.empty() ? crypto::derive_return_key(provider_key)
                                                   : load_return_key_file(options.return_key_file);
  } catch (const std::runtime_error& e) {
    throw ConfigError(opt::kReturnKey, e.what());
  }
  if (!options.static_tunnel_key_file.empty()) {
    try {
      s.static_tunnel_key = load_tunnel_key_file(options.static_tunnel_key_file);
    } catch (const std::runtime_error& e) {
      throw ConfigError(opt::kStaticTunnelKey, e.what());
    }
  }
  return s;
}

}  // namespace dmux::agent
