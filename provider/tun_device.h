// The TUN device the agent de-tunnels into, and the route that sends the client prefix into it.
// Start-up code: constructors throw std::system_error naming what failed. Needs CAP_NET_ADMIN.
#pragma once

#include <cstddef>
#include <span>
#include <string>

#include "common/net/unique_fd.h"
#include "provider/client_address.h"

namespace dmux::provider {

// A layer-3 TUN device (IFF_TUN | IFF_NO_PI: each read or write is one bare IP packet), explicitly
// non-persistent: the kernel deletes it, and every route through it, when the descriptor closes,
// including when the process is killed. Brought up with the given MTU. The descriptor is
// non-blocking.
class TunDevice {
 public:
  TunDevice(const std::string& name, int mtu);

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }
  [[nodiscard]] int ifindex() const noexcept { return ifindex_; }

 private:
  net::UniqueFd fd_;
  std::string name_;  // as the kernel named it
  int ifindex_ = 0;
};

// "ip -6 route add PREFIX/48 dev TUN" for the object's lifetime (ioctl SIOCADDRT/SIOCDELRT on an
// AF_INET6 socket). Removed in the destructor; if the process dies first, the route goes with the
// non-persistent device.
class ClientPrefixRoute {
 public:
  ClientPrefixRoute(const ClientPrefix& prefix, int ifindex);
  ~ClientPrefixRoute();
  ClientPrefixRoute(const ClientPrefixRoute&) = delete;
  ClientPrefixRoute& operator=(const ClientPrefixRoute&) = delete;

 private:
  ClientPrefix prefix_;
  int ifindex_;
};

}  // namespace dmux::provider
