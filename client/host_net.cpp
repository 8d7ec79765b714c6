#include "client/host_net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <libmnl/libmnl.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <system_error>

#include "client/command.h"
#include "common/util/log.h"

namespace dmux::client {

std::string to_string(const Ipv6Address& a) {
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, a.data(), text, sizeof text);
  return text;
}

void add_address(const std::string& dev, const Ipv6Address& a) {
  run_checked({"ip", "-6", "addr", "replace", to_string(a) + "/128", "dev", dev, "nodad"});
}

void remove_address(const std::string& dev, const Ipv6Address& a) noexcept {
  try {
    if (run_command({"ip", "-6", "addr", "del", to_string(a) + "/128", "dev", dev}) != 0)
      LOG_DEBUG("address %s was already gone from %s", to_string(a).c_str(), dev.c_str());
  } catch (const std::exception& e) {
    LOG_WARN("removing %s: %s", to_string(a).c_str(), e.what());
  }
}

void add_route(const std::string& dev, const std::string& prefix) {
  run_checked({"ip", "-6", "route", "replace", prefix, "dev", dev, "metric", "1024"});
}

void remove_route(const std::string& dev, const std::string& prefix) {
  if (run_command({"ip", "-6", "route", "del", prefix, "dev", dev, "metric", "1024"}) != 0)
    LOG_DEBUG("route %s was already gone from %s", prefix.c_str(), dev.c_str());
}

void enable_ipv4_multicast(const std::string& dev) {
  run_checked({"ip", "-4", "route", "replace", "224.0.0.0/4", "dev", dev});
  const std::string path = "/proc/sys/net/ipv4/conf/" + dev + "/rp_filter";
  std::ofstream(path) << "0\n";
  int value = -1;
  std::ifstream(path) >> value;
  if (value != 0) throw std::runtime_error("cannot turn rp_filter off on " + dev);
  std::ifstream("/proc/sys/net/ipv4/conf/all/rp_filter") >> value;
  if (value == 1) {
    LOG_WARN(
        "net.ipv4.conf.all.rp_filter is 1 (strict): group packets injected into %s are "
        "dropped; set it to 0 or 2",
        dev.c_str());
  }
}

std::vector<InterfaceAddress> interface_ipv4_addresses() {
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) != 0)
    throw std::system_error(errno, std::generic_category(), "getifaddrs");
  std::vector<InterfaceAddress> out;
  try {
    for (const ifaddrs* i = list; i != nullptr; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      sockaddr_in sin{};
      std::memcpy(&sin, i->ifa_addr, sizeof sin);
      const std::uint32_t a = ntohl(sin.sin_addr.s_addr);
      if ((a >> 24) == 0 || (a >> 24) == 127) continue;
      out.push_back(InterfaceAddress{.address = a, .dev = i->ifa_name});
    }
  } catch (...) {
    ::freeifaddrs(list);
    throw;
  }
  ::freeifaddrs(list);
  return out;
}

std::vector<std::uint32_t> host_ipv4_addresses() {
  std::vector<std::uint32_t> out;
  for (const InterfaceAddress& a : interface_ipv4_addresses()) out.push_back(a.address);
  return out;
}

namespace {

std::string ipv4_text(std::uint32_t address) {
  in_addr in{htonl(address)};
  char text[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &in, text, sizeof text);
  return text;
}

}  // namespace

void add_ipv4_address(const std::string& dev, std::uint32_t address) {
  run_checked({"ip", "-4", "addr", "replace", ipv4_text(address) + "/32", "dev", dev, "scope",
               "host", "noprefixroute"});
}

void remove_ipv4_address(const std::string& dev, std::uint32_t address) noexcept {
  try {
    if (run_command({"ip", "-4", "addr", "del", ipv4_text(address) + "/32", "dev", dev}) != 0)
      LOG_DEBUG("address %s was already gone from %s", ipv4_text(address).c_str(), dev.c_str());
  } catch (const std::exception& e) {
    LOG_WARN("removing %s from %s: %s", ipv4_text(address).c_str(), dev.c_str(), e.what());
  }
}

namespace {

int route_attribute(const nlattr* a, void* data) {
  if (mnl_attr_get_type(a) == RTA_OIF && mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
    *static_cast<int*>(data) = static_cast<int>(mnl_attr_get_u32(a));
  return MNL_CB_OK;
}

int route_message(const nlmsghdr* nlh, void* data) {
  if (nlh->nlmsg_type == RTM_NEWROUTE) mnl_attr_parse(nlh, sizeof(rtmsg), route_attribute, data);
  return MNL_CB_OK;
}

}  // namespace

int sourced_multicast_device(std::uint32_t source) noexcept {
  const std::unique_ptr<mnl_socket, int (*)(mnl_socket*)> nl(
      mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC), mnl_socket_close);
  if (!nl || mnl_socket_bind(nl.get(), 0, MNL_SOCKET_AUTOPID) < 0) return 0;
  alignas(nlmsghdr) std::array<char, 8192> buf{};
  nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
  nlh->nlmsg_type = RTM_GETROUTE;
  nlh->nlmsg_flags = NLM_F_REQUEST;
  nlh->nlmsg_seq = 1;
  auto* rtm = static_cast<rtmsg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(rtmsg)));
  rtm->rtm_family = AF_INET;
  rtm->rtm_dst_len = 32;
  rtm->rtm_src_len = 32;
  mnl_attr_put_u32(nlh, RTA_DST, htonl(0xe0000001u));  // 224.0.0.1: any group takes the rule
  mnl_attr_put_u32(nlh, RTA_SRC, htonl(source));
  if (mnl_socket_sendto(nl.get(), nlh, nlh->nlmsg_len) < 0) return 0;
  const ssize_t n = mnl_socket_recvfrom(nl.get(), buf.data(), buf.size());
  if (n <= 0) return 0;
  int oif = 0;
  if (mnl_cb_run(buf.data(), static_cast<std::size_t>(n), 1, mnl_socket_get_portid(nl.get()),
                 route_message, &oif) < 0) {
    return 0;
  }
  return oif;
}

bool has_native_ipv6(const std::string& our_dev) {
  // Fields: dest, dest_len, src, src_len, next_hop, metric, refcnt, use, flags, device.
  std::ifstream routes("/proc/net/ipv6_route");
  std::string line;
  constexpr unsigned kRtfReject = 0x0200;
  while (std::getline(routes, line)) {
    std::istringstream f(line);
    std::string dest, dest_len, src, src_len, next_hop, metric, refcnt, use, flags, dev;
    if (!(f >> dest >> dest_len >> src >> src_len >> next_hop >> metric >> refcnt >> use >> flags >>
          dev)) {
      continue;
    }
    if (dest != std::string(32, '0') || dest_len != "00") continue;
    if (dev == our_dev || dev == "lo") continue;
    if (std::stoul(flags, nullptr, 16) & kRtfReject) continue;
    return true;
  }
  return false;
}

}  // namespace dmux::client
