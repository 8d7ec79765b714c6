#include "provider/client_prefix_route.h"

#include <net/route.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/net/unique_fd.h"
#include "common/util/log.h"

namespace dmux::provider {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

// Route ioctls go to an AF_INET6 datagram socket.
net::UniqueFd control_socket() {
  net::UniqueFd s(::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) fail("socket(AF_INET6)");
  return s;
}

in6_rtmsg make_route(const ClientPrefix& prefix, int ifindex) {
  in6_rtmsg rt{};
  std::memcpy(&rt.rtmsg_dst, prefix.bytes.data(), prefix.bytes.size());
  rt.rtmsg_dst_len = kClientPrefixBits;
  rt.rtmsg_ifindex = ifindex;
  rt.rtmsg_metric = 1;
  rt.rtmsg_flags = RTF_UP;
  return rt;
}

}  // namespace

ClientPrefixRoute::ClientPrefixRoute(const ClientPrefix& prefix, int ifindex)
    : prefix_(prefix), ifindex_(ifindex) {
  const net::UniqueFd s = control_socket();
  in6_rtmsg rt = make_route(prefix_, ifindex_);
  if (::ioctl(s.get(), SIOCADDRT, &rt) != 0) fail("add route " + to_string(prefix_));
}

ClientPrefixRoute::~ClientPrefixRoute() {
  try {
    const net::UniqueFd s = control_socket();
    in6_rtmsg rt = make_route(prefix_, ifindex_);
    if (::ioctl(s.get(), SIOCDELRT, &rt) != 0) {
      LOG_WARN("could not remove the route for %s: %s", to_string(prefix_).c_str(),
               std::strerror(errno));
    }
  } catch (const std::exception& e) {
    LOG_WARN("could not remove the route for %s: %s", to_string(prefix_).c_str(), e.what());
  }
}

}  // namespace dmux::provider
