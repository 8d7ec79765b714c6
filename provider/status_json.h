// The "status" document of dmux-provider's control socket (fields in docs/provider.md).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "agent/control_reply.h"
#include "agent/ingress.h"
#include "agent/registration_client.h"
#include "common/net/gro.h"
#include "common/net/udp_gro.h"
#include "common/net/udp_gso.h"
#include "provider/config.h"
#include "provider/counters.h"

namespace dmux::provider {

// The offloads of the data path (common/net): what the kernel accepted, and their counters.
struct OffloadView {
  unsigned tun_offloads = 0;  // TUN_F_* accepted by TUNSETOFFLOAD
  bool udp_gro = false;       // UDP_GRO on the listen socket
  const net::UdpReceiveCounters* receive = nullptr;
  const net::GroCounters* coalesce = nullptr;
  const net::UdpSendCounters* send = nullptr;
  bool gso = false;  // RETURNs still sent with UDP_SEGMENT (off after repeated refusals)
};

struct StatusView {
  const ProviderConfig& config;
  wire::ProviderId provider_id{};
  std::string tun_name;
  double uptime_seconds;
  const DataPathCounters& counters;
  const agent::Ingress& ingress;  // tunnel keys, windows, offers and their drops
  agent::MonoTime now;
  const agent::ControlReplyCounters& control_replies;
  const std::vector<std::unique_ptr<agent::RegistrationClient>>& registrations;
  OffloadView offload;
};

std::string status_json(const StatusView& v);

}  // namespace dmux::provider
