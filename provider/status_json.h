// The "status" document of dmux-provider's control socket (fields in docs/provider.md).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/ingress.h"
#include "provider/config.h"
#include "provider/counters.h"
#include "provider/registration_client.h"

namespace dmux::provider {

struct StatusView {
  const ProviderConfig& config;
  std::uint32_t provider_id;
  std::string tun_name;
  double uptime_seconds;
  const DataPathCounters& counters;
  const agent::Ingress& ingress;  // tunnel keys, windows, offers and their drops
  agent::MonoTime now;
  const ControlReplyCounters& control_replies;
  const std::vector<std::unique_ptr<RegistrationClient>>& registrations;
};

std::string status_json(const StatusView& v);

// One registration's state and counters, as in the "registrations" list (also used by
// dmux-mcast, whose routers register the same way).
nlohmann::json registration_json(const RegistrationClient& r);

}  // namespace dmux::provider
