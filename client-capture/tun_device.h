// The client's TUN device: the route target that makes the kernel send IPv6 (and what else is
// routed there) toward NFQUEUE, and the path on which replies are injected into the host stack.
// IFF_TUN | IFF_NO_PI, explicitly non-persistent: the kernel removes it, with its addresses and
// routes, when the descriptor closes, including on SIGKILL. No link-local address, no RA
// processing, generic segmentation off (so TCP hands NFQUEUE packets of at most the MTU).
// Start-up code: the constructor throws std::system_error. Needs CAP_NET_ADMIN.
#pragma once

#include <string>

#include "common/net/unique_fd.h"

namespace dmux::client {

class TunDevice {
 public:
  TunDevice(const std::string& name, int mtu);

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& name() const noexcept { return name_; }

 private:
  net::UniqueFd fd_;
  std::string name_;
};

}  // namespace dmux::client
