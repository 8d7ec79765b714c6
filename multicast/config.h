// dmux-mcast's configuration as a plain struct. Built by options.cpp (the only code that knows
// Boost.Program_options); handed to McastApp, which derives the components' configs from it.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_options.h"
#include "common/net/endpoint.h"
#include "common/util/config_error.h"
#include "common/util/log.h"

namespace dmux::multicast {

struct McastConfig {
  net::Endpoint gateway;  // registration endpoint: anycast or a gateway's unicast
  net::Endpoint listen;   // TUNNEL and peer messages arrive here; a specific address
  std::string cert_file;  // PEM provider certificate from dmux-ca (must allow ipv4-multicast)
  std::string key_file;   // its Ed25519 key
  std::vector<net::Endpoint> peers;  // the provider's other routers (their --listen endpoints)
  std::string peer_key_file;         // the shared secret of the provider's routers
  std::chrono::milliseconds membership_timeout{260000};  // IGMP group membership interval
  std::chrono::milliseconds query_interval{125000};      // general queries to members
  std::chrono::milliseconds query_response{10000};       // max response time in queries
  std::chrono::milliseconds summary_interval{1000};      // SUMMARY to peers
  std::chrono::milliseconds peer_dead_after{3500};       // a silent peer is dead after this
  // Register only once every peer has been heard (docs/protocol.md 9.9), or after this long when
  // some stay silent (alone, or the others are down).
  std::chrono::milliseconds ready_wait{3000};
  std::size_t max_groups_per_client = 64;   // memberships per client IPv4 address (all ports)
  std::size_t max_clients_per_address = 4;  // clients (ports) per client IPv4 address
  std::size_t max_members_per_group = 1024;
  std::size_t max_groups = 4096;
  std::size_t max_clients = 4096;
  agent::AgentOptions agent;   // return key, static tunnel key, allowed destinations
  std::string control_socket;  // UNIX socket for "status"; empty = none
  std::string control_group;   // operator group given the control socket; "" = the daemon's own
  std::optional<net::Endpoint> metrics_listen;  // Prometheus /metrics over HTTP; nullopt = off
  log::Level log_level = log::Level::kInfo;
};

using dmux::ConfigError;

}  // namespace dmux::multicast
