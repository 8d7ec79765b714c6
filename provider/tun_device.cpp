#include "provider/tun_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <net/route.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "common/util/log.h"

namespace dmux::provider {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

ifreq make_ifreq(const std::string& name) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof ifr.ifr_name - 1));
  return ifr;
}

// The ioctls for MTU and flags go to any socket; an AF_INET6 datagram socket also serves routes.
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

// The device is a pure routing target: without a link-local address (addr_gen_mode 1 = none) the
// kernel sends no router solicitations or neighbour discovery into it. (It still reports its
// all-routers membership with MLD a few times at start; PacketPath counts those as "multicast".)
void disable_link_local(const std::string& name) {
  std::ofstream f("/proc/sys/net/ipv6/conf/" + name + "/addr_gen_mode");
  f << "1\n";
  f.flush();
  if (!f)
    LOG_WARN("could not set addr_gen_mode of %s; expect a few link-local drops", name.c_str());
}

}  // namespace

TunDevice::TunDevice(const std::string& name, int mtu) {
  fd_.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd_.valid()) fail("open /dev/net/tun");
  ifreq ifr = make_ifreq(name);
  ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
  if (::ioctl(fd_.get(), TUNSETIFF, &ifr) != 0) fail("TUNSETIFF " + name);
  // A persistent device of that name left by someone else would survive us; make it ours.
  if (::ioctl(fd_.get(), TUNSETPERSIST, 0) != 0) fail("TUNSETPERSIST 0 " + name);
  name_ = ifr.ifr_name;

  const net::UniqueFd s = control_socket();
  ifreq req = make_ifreq(name_);
  req.ifr_mtu = mtu;
  if (::ioctl(s.get(), SIOCSIFMTU, &req) != 0) fail("set MTU of " + name_);
  disable_link_local(name_);
  req = make_ifreq(name_);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &req) != 0) fail("get flags of " + name_);
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &req) != 0) fail("bring up " + name_);
  ifindex_ = static_cast<int>(::if_nametoindex(name_.c_str()));
  if (ifindex_ == 0) fail("if_nametoindex " + name_);
}

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
