#include "bgp-glue/route_netlink.h"

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <system_error>

#include "common/util/log.h"

namespace dmux::bgp_glue {

NetlinkRoutes::NetlinkRoutes(net::Ipv4Prefix prefix, int ifindex, std::string device)
    : prefix_(prefix), ifindex_(ifindex), device_(std::move(device)) {
  nl_ = mnl_socket_open(NETLINK_ROUTE);
  if (nl_ == nullptr) throw std::system_error(errno, std::generic_category(), "netlink socket");
  if (mnl_socket_bind(nl_, 0, MNL_SOCKET_AUTOPID) < 0) {
    const int err = errno;
    mnl_socket_close(nl_);
    throw std::system_error(err, std::generic_category(), "netlink bind");
  }
}

NetlinkRoutes::~NetlinkRoutes() { mnl_socket_close(nl_); }

int NetlinkRoutes::request(int type, unsigned flags, std::uint32_t metric) noexcept {
  alignas(nlmsghdr) std::array<char, 512> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = static_cast<std::uint16_t>(type);
  nlh->nlmsg_flags = static_cast<std::uint16_t>(NLM_F_REQUEST | NLM_F_ACK | flags);
  nlh->nlmsg_seq = ++seq_;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = prefix_.length;
  rtm->rtm_table = RT_TABLE_MAIN;
  rtm->rtm_protocol = RTPROT_STATIC;
  rtm->rtm_scope = RT_SCOPE_LINK;
  rtm->rtm_type = RTN_UNICAST;
  mnl_attr_put_u32(nlh, RTA_DST, htonl(prefix_.addr));
  mnl_attr_put_u32(nlh, RTA_OIF, static_cast<std::uint32_t>(ifindex_));
  mnl_attr_put_u32(nlh, RTA_PRIORITY, metric);

  if (mnl_socket_sendto(nl_, nlh, nlh->nlmsg_len) < 0) return -errno;
  alignas(nlmsghdr) std::array<char, 8192> reply{};
  const unsigned portid = mnl_socket_get_portid(nl_);
  for (;;) {
    const ssize_t n = mnl_socket_recvfrom(nl_, reply.data(), reply.size());
    if (n < 0) return -errno;
    const int rc =
        mnl_cb_run(reply.data(), static_cast<std::size_t>(n), seq_, portid, nullptr, nullptr);
    if (rc == MNL_CB_ERROR) return -errno;
    if (rc == MNL_CB_STOP) return 0;  // the ACK
  }
}

namespace {
// flags of `device` into `ifr`; false if it cannot be read.
bool read_flags(int fd, const std::string& device, ifreq& ifr) noexcept {
  if (device.size() >= IFNAMSIZ) return false;
  std::memset(&ifr, 0, sizeof ifr);
  std::memcpy(ifr.ifr_name, device.c_str(), device.size());
  return ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
}
}  // namespace

bool device_up(const std::string& device) noexcept {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  const bool up = read_flags(fd, device, ifr) && (ifr.ifr_flags & IFF_UP) != 0;
  ::close(fd);
  return up;
}

bool set_device_up(const std::string& device, bool up) noexcept {
  const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  ifreq ifr{};
  bool ok = read_flags(fd, device, ifr);
  if (ok && ((ifr.ifr_flags & IFF_UP) != 0) != up) {
    ifr.ifr_flags = static_cast<short>(up ? (ifr.ifr_flags | IFF_UP) : (ifr.ifr_flags & ~IFF_UP));
    ok = ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
  }
  ::close(fd);
  return ok;
}

bool NetlinkRoutes::present(std::uint32_t /*metric*/) noexcept { return device_up(device_); }

bool NetlinkRoutes::add(std::uint32_t metric) noexcept {
  if (!device_up(device_) && !set_device_up(device_, true)) {
    LOG_ERROR("bringing %s up: %s", device_.c_str(), std::strerror(errno));
    return false;
  }
  const int rc = request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, metric);
  if (rc != 0) {
    LOG_ERROR("adding route %s dev %s metric %u: %s", prefix_.to_string().c_str(), device_.c_str(),
              metric, std::strerror(-rc));
  }
  return rc == 0;
}

bool NetlinkRoutes::remove(std::uint32_t metric) noexcept {
  const int rc = request(RTM_DELROUTE, 0, metric);
  if (rc != 0 && rc != -ESRCH) {
    LOG_ERROR("removing route %s dev %s metric %u: %s", prefix_.to_string().c_str(),
              device_.c_str(), metric, std::strerror(-rc));
  }
  return rc == 0 || rc == -ESRCH;
}

}  // namespace dmux::bgp_glue
