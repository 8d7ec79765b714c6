// The "status" document of dmux-provider's control socket (fields in docs/provider.md).
#pragma once

#include <memory>
#include <string>
#include <vector>

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
  const ControlReplyCounters& control_replies;
  const std::vector<std::unique_ptr<RegistrationClient>>& registrations;
};

std::string status_json(const StatusView& v);

}  // namespace dmux::provider
