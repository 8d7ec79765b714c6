// The one thing the announcer asks of the kernel: hold or drop the dmux-prefix route, with a
// metric. An interface so the announcer's state machine is tested without netlink.
#pragma once

#include <cstdint>

namespace dmux::bgp_glue {

class RouteControl {
 public:
  virtual ~RouteControl() = default;
  // Installs (or replaces) the route with this metric. False on failure (the caller retries).
  virtual bool add(std::uint32_t metric) noexcept = 0;
  // Removes the route with this metric; a route already gone counts as removed.
  virtual bool remove(std::uint32_t metric) noexcept = 0;
  // Whether the route is still in the kernel: someone else (dmux-healthcheck, while this process
  // was frozen) may have removed it. True when the kernel cannot be asked (then nothing changes).
  virtual bool present(std::uint32_t /*metric*/) noexcept { return true; }
};

}  // namespace dmux::bgp_glue
