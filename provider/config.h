// dmux-provider's configuration as a plain struct. Built by options.cpp (the only code that knows
// Boost.Program_options); handed to ProviderApp and its components.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "agent/agent_options.h"
#include "common/net/endpoint.h"
#include "common/util/config_error.h"
#include "common/util/log.h"
#include "provider/client_address.h"

namespace dmux::provider {

struct ProviderConfig {
  net::Endpoint gateway;                 // registration endpoint: anycast or a gateway's unicast
  net::Endpoint listen;                  // TUNNEL arrives here; source of REGISTER and RETURN
  std::string cert_file;                 // PEM provider certificate from dmux-ca
  std::string key_file;                  // PEM Ed25519 key matching cert_file
  std::vector<std::uint16_t> protocols;  // proto_ids to register; each must be in the certificate
  ClientPrefix client_prefix;            // the /48 whose addresses embed client IPv4:port:tag
  std::string tun_name = "dmuxp0";       // TUN device created (non-persistent) at start
  int tun_mtu = 1400;                    // IPvN MTU: fits 1500-byte IPv4 paths with both headers
  agent::AgentOptions agent;             // return key, static tunnel key, allowed destinations
  std::string control_socket;            // UNIX socket for "status"; empty = none
  std::string control_group;  // operator group given the control socket; "" = the daemon's own
  std::optional<net::Endpoint> metrics_listen;  // Prometheus /metrics over HTTP; nullopt = off
  log::Level log_level = log::Level::kInfo;
};

using dmux::ConfigError;

}  // namespace dmux::provider
