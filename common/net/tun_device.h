// A TUN device (IFF_TUN | IFF_NO_PI) for IPv6 routing and injection, shared by dmux-provider and
// dmux-client. Explicitly non-persistent: the kernel removes it, with its addresses and routes,
// when the descriptor closes, including on SIGKILL. No link-local address (so the kernel sends no
// router solicitations or neighbour discovery into it) and no kernel RA processing.
// Start-up code: the constructor throws std::system_error naming what failed. Needs CAP_NET_ADMIN.
#pragma once

#include <string>

#include "common/net/unique_fd.h"

namespace dmux::net {

struct TunOptions {
  int mtu = 1400;
  bool disable_gso = false;  // generic segmentation off: readers see packets of at most the MTU
};

class TunDevice {
 public:
  TunDevice(const std::string& name, const TunOptions& options);

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }  // as the kernel named it
  [[nodiscard]] int ifindex() const noexcept { return ifindex_; }

 private:
  UniqueFd fd_;
  std::string name_;
  int ifindex_ = 0;
};

}  // namespace dmux::net
