#include "gateway/listen_probe.h"

#include <cerrno>
#include <stdexcept>
#include <system_error>

#include "common/net/udp_socket.h"

namespace dmux::gateway {

void refuse_taken_listen_endpoints(const std::vector<net::Endpoint>& listen) {
  for (const auto& ep : listen) {
    try {
      // Closed again at once: the workers' SO_REUSEPORT sockets take its place.
      net::open_udp_socket(ep, net::UdpSocketOptions{.reuse_port = false});
    } catch (const std::system_error& e) {
      if (e.code().value() != EADDRINUSE) throw;
      throw std::runtime_error("listen " + ep.to_string() +
                               " is in use by another socket (a second dmuxd?); refusing to "
                               "share it with SO_REUSEPORT");
    }
  }
}

}  // namespace dmux::gateway
