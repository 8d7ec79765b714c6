// dmuxd's configuration as a plain struct. Built by options.cpp (the only code that knows
// Boost.Program_options) from a config file plus command-line overrides; handed to components.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "bgp-glue/announce_config.h"
#include "common/net/endpoint.h"
#include "common/util/log.h"
#include "gateway/dataplane/forwarding_table.h"
#include "gateway/registration_config.h"
#include "mesh/mesh_config.h"
#include "mesh/selection.h"

namespace dmux::gateway {

struct GatewayConfig {
  std::vector<net::Endpoint> listen;        // DATA endpoints (anycast and unicast); >= 1
  net::Endpoint tunnel_source;              // egress bind address; 0.0.0.0:0 = kernel picks
  wire::GatewayId gateway_id;               // ingress id in TUNNEL headers; 0 = first listen addr
  unsigned workers = 0;                     // data-plane threads; 0 = one per CPU
  unsigned batch_size = 64;                 // datagrams per recvmmsg/sendmmsg
  std::size_t max_datagram_bytes = 1500;    // larger DATA datagrams are dropped (oversize)
  int socket_buffer_bytes = 4 << 20;        // SO_RCVBUF/SO_SNDBUF per data socket
  bool use_gso = true;                      // UDP GSO for runs of datagrams to one router
  bool use_gro = true;                      // UDP_GRO on the DATA sockets
  std::vector<RouterEntry> static_routers;  // operator-pinned routers, each with its key
  std::optional<RegistrationConfig> registration;    // nullopt = static routers only
  std::optional<mesh::MeshConfig> mesh;              // nullopt = a lone gateway
  mesh::SelectionConfig selection;                   // how the nearest tier is chosen
  std::optional<bgp_glue::AnnounceConfig> announce;  // nullopt = FRR announcement not ours
  std::optional<net::Endpoint> metrics_listen;       // Prometheus exposer; nullopt = disabled
  std::string control_socket = "/run/ipdmux/dmuxd.sock";
  std::string control_group;  // operator group given the control socket; "" = the daemon's own
  log::Level log_level = log::Level::kInfo;
  std::string config_file;  // where the config came from ("" = CLI only)
  std::string crl_path;     // the CA's revocation list (docs/protocol.md 10.1); "" = none
};

// The key_id of every static router's tunnel key (docs/protocol.md 5.4).
inline constexpr std::uint32_t kStaticKeyId = 0;

// Parses one static-router value: "PROTO PROVIDER_ID ADDR:PORT KEYFILE", e.g.
// "ipv6 7 198.18.2.2:5000 /etc/ipdmux/r1.tunnel-key", and reads the router's 32-byte tunnel key
// from KEYFILE (64 hex digits, whitespace ignored). Returns an error message, or "" on success.
std::string parse_static_router(const std::string& text, RouterEntry& out);

}  // namespace dmux::gateway
