// Configuration of a gateway's mesh service (plain struct; gateway/options.cpp fills it).
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "mesh/handshake_limiter.h"
#include "mesh/peer_directory.h"

namespace dmux::mesh {

struct MeshConfig {
  wire::GatewayId gateway_id;              // must equal the id in our certificate
  net::Endpoint listen;                    // TLS over TCP; advertised to peers
  std::vector<net::Endpoint> seeds;        // peers to dial at start; the rest is learned
  std::string cert_path, key_path;         // from dmux-ca issue-gateway
  std::string ca_cert_path;                // the operator's CA: peers must chain to it
  std::chrono::milliseconds grace{10000};  // a vanished peer's routers are kept this long
  std::chrono::milliseconds probe_interval{1000};
  int dead_after_probes = 5;                          // a link silent this many intervals is closed
  std::chrono::milliseconds handshake_timeout{5000};  // TCP + TLS + HELLO
  std::chrono::milliseconds reconnect_min{250};       // backoff, doubled up to reconnect_max
  std::chrono::milliseconds reconnect_max{5000};
  std::size_t max_routers_per_origin = 10000;    // records held from one peer (12.8)
  std::size_t max_routers_per_provider = 1024;   // records held for one provider, all peers
  std::size_t max_certificates_per_link = 4096;  // CERTIFICATE frames one link may send
  std::chrono::microseconds slice{2000};         // longest stretch of record verification
  HandshakeLimits handshakes;                    // unauthenticated inbound links
  DirectoryConfig directory;                     // who is dialled (PEERS vouching)
};

}  // namespace dmux::mesh
