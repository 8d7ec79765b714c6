#include "client/host_net.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <fstream>
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
