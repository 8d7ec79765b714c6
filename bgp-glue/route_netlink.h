// RouteControl over rtnetlink (libmnl): the dmux-prefix as a unicast route into one device, in
// the main table, with protocol "static" so zebra sees it as a kernel route it may redistribute
// (zebra ignores protocol "kernel"). The route dies with the device, so with a non-persistent TUN
// device it dies with the process, even on SIGKILL.
#pragma once

#include <string>

#include "bgp-glue/route_control.h"
#include "common/net/endpoint.h"

struct mnl_socket;

namespace dmux::bgp_glue {

class NetlinkRoutes final : public RouteControl {
 public:
  // Opens the netlink socket; throws std::system_error on failure.
  NetlinkRoutes(net::Ipv4Prefix prefix, int ifindex, std::string device);
  ~NetlinkRoutes() override;
  NetlinkRoutes(const NetlinkRoutes&) = delete;
  NetlinkRoutes& operator=(const NetlinkRoutes&) = delete;

  bool add(std::uint32_t metric) noexcept override;
  bool remove(std::uint32_t metric) noexcept override;
  // The device is up. dmux-healthcheck takes a frozen dmuxd's device down, and the kernel then
  // deletes every route through it (one ioctl, whatever the size of the routing table).
  bool present(std::uint32_t metric) noexcept override;

 private:
  int request(int type, unsigned flags, std::uint32_t metric) noexcept;  // 0 or -errno

  net::Ipv4Prefix prefix_;
  int ifindex_;
  std::string device_;
  mnl_socket* nl_ = nullptr;
  unsigned seq_ = 0;
};

// Whether the device is up, and taking it up or down (SIOCGIFFLAGS / SIOCSIFFLAGS). Return false
// if the device does not exist or the ioctl fails. Down also deletes every IPv4 route through it.
bool device_up(const std::string& device) noexcept;
bool set_device_up(const std::string& device, bool up) noexcept;

}  // namespace dmux::bgp_glue
