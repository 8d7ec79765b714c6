// The route that sends the provider's client prefix into the agent's TUN device
// (common/net/tun_device.h). Added at start, removed at exit; the kernel also removes it with the
// device when the agent dies. Start-up code: the constructor throws std::system_error.
// Needs CAP_NET_ADMIN.
#pragma once

#include "provider/client_address.h"

namespace dmux::provider {

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
