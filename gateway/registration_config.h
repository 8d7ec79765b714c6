// Configuration of a gateway's registration service (plain struct; options.cpp fills it).
#pragma once

#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "registry/registration_handler.h"
#include "registry/router_feedback.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

struct RegistrationConfig {
  std::vector<net::Endpoint> listen;  // REGISTER/KEEPALIVE arrive here (anycast and unicast)
  std::string ca_cert_path;           // the operator's CA certificate (PEM)
  registry::RegistryConfig registry;  // keepalive, hold time, limits, dampening
  registry::HandlerConfig handler;    // gateway id, freshness, cookies, rate limits, budget
  int socket_buffer_bytes = 4 << 20;  // SO_RCVBUF of each endpoint: absorbs a flood's bursts
  // ICMP port unreachable for our TUNNELs (docs/protocol.md 9.9); gateway_id and tunnel_source are
  // filled from the gateway's own. Off if the raw socket cannot be opened (no CAP_NET_RAW).
  registry::FeedbackConfig feedback;
  bool router_feedback = true;
};

}  // namespace dmux::gateway
