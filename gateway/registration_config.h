// Configuration of a gateway's registration service (plain struct; options.cpp fills it).
#pragma once

#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "registry/registration_handler.h"
#include "registry/router_registry.h"

namespace dmux::gateway {

struct RegistrationConfig {
  std::vector<net::Endpoint> listen;  // REGISTER/KEEPALIVE arrive here (anycast and unicast)
  std::string ca_cert_path;           // the operator's CA certificate (PEM)
  registry::RegistryConfig registry;  // keepalive, hold time, limits, dampening
  registry::HandlerConfig handler;    // gateway id, freshness, rate limit
};

}  // namespace dmux::gateway
