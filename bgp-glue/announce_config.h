// How dmuxd announces the dmux-prefix: the kernel route FRR redistributes, and when to hold it.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include "common/net/endpoint.h"

namespace dmux::bgp_glue {

struct AnnounceConfig {
  net::Ipv4Prefix prefix;             // the dmux-prefix, e.g. 198.18.0.0/24
  std::string device = "dmuxa0";      // non-persistent TUN device the route points into
  std::uint32_t metric = 100;         // route metric while announced (FRR: plain announcement)
  std::uint32_t drain_metric = 1000;  // route metric while draining (FRR: graceful shutdown)
  std::chrono::milliseconds health_interval{200};  // one health sample per interval
  unsigned rise = 3;                               // consecutive good samples before announcing
  unsigned fall = 2;                               // consecutive bad samples before withdrawing
  std::chrono::milliseconds drain_withdraw{5000};  // graceful-shutdown period before withdrawal
};

}  // namespace dmux::bgp_glue
