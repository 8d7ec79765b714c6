// The control socket's answer to 'status': one JSON document (dmuxctl --json status prints it).
// Read on the event-loop thread. (Prometheus metrics: metrics_exporter.h.)
#pragma once

#include <string>

#include "client/address_offer.h"
#include "client/config.h"
#include "client/counters.h"
#include "client/return_tokens.h"
#include "client/tunnel_io.h"
#include "common/net/endpoint.h"

namespace dmux::client {

struct StatusView {
  const ClientConfig& config;
  const std::string& tun_name;
  net::Endpoint local;
  bool ipv6_active;
  double uptime_seconds;
  Clock::time_point now;
  const AddressOffer& offer;
  const ReturnTokens& tokens;
  const DataPathCounters& counters;
  const TunnelIo& io;
  unsigned tun_offloads;  // TUN_F_* the kernel accepted
};

std::string status_json(const StatusView& v);

}  // namespace dmux::client
