// The "status" document of dmux-mcast's control socket (fields in docs/multicast.md).
#pragma once

#include <cstdint>
#include <string>

#include "agent/registration_client.h"
#include "multicast/config.h"
#include "multicast/mcast_router.h"

namespace dmux::multicast {

struct StatusView {
  const McastConfig& config;
  wire::ProviderId provider_id{};
  double uptime_seconds;
  const McastRouter& router;
  const agent::RegistrationClient& registration;
  std::uint64_t control_replies;
  std::uint64_t bad_control_replies;
  MonoTime now;
};

std::string status_json(const StatusView& v);

}  // namespace dmux::multicast
