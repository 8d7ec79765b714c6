#include "common/net/tun_device.h"

#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

#include "common/net/virtio_hdr.h"
#include "common/util/log.h"

namespace dmux::net {
namespace {

[[noreturn]] void fail(const std::string& what) {
  throw std::system_error(errno, std::generic_category(), what);
}

ifreq make_ifreq(const std::string& name) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof ifr.ifr_name - 1));
  return ifr;
}

void write_sysctl(const std::string& path, const char* value) {
  std::ofstream f(path);
  f << value << '\n';
  f.flush();
  if (!f) LOG_WARN("could not write %s", path.c_str());
}

// Older kernels' headers lack USO.
#ifndef TUN_F_USO4
#define TUN_F_USO4 0x20
#define TUN_F_USO6 0x40
#endif

}  // namespace

// Checksum and TCP segmentation offload, and UDP segmentation where the kernel has it (6.2+).
void TunDevice::set_offloads() {
  const unsigned tcp = TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6;
  for (const unsigned flags : {tcp | TUN_F_USO4 | TUN_F_USO6, tcp}) {
    if (::ioctl(fd_.get(), TUNSETOFFLOAD, static_cast<unsigned long>(flags)) == 0) {
      offloads_ = flags;
      return;
    }
  }
  fail("TUNSETOFFLOAD " + name_);
}

bool TunDevice::tso() const noexcept {
  return (offloads_ & (TUN_F_TSO4 | TUN_F_TSO6)) == (TUN_F_TSO4 | TUN_F_TSO6);
}

bool TunDevice::uso() const noexcept {
  return (offloads_ & (TUN_F_USO4 | TUN_F_USO6)) == (TUN_F_USO4 | TUN_F_USO6);
}

TunDevice::TunDevice(const std::string& name, const TunOptions& options) {
  fd_.reset(::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC));
  if (!fd_.valid()) fail("open /dev/net/tun");
  ifreq ifr = make_ifreq(name);
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (options.vnet_hdr ? IFF_VNET_HDR : 0));
  if (::ioctl(fd_.get(), TUNSETIFF, &ifr) != 0) fail("TUNSETIFF " + name);
  name_ = ifr.ifr_name;
  vnet_hdr_ = options.vnet_hdr;
  if (vnet_hdr_) {
    int len = static_cast<int>(kVirtioNetHdrLen);
    if (::ioctl(fd_.get(), TUNSETVNETHDRSZ, &len) != 0) fail("TUNSETVNETHDRSZ " + name);
    if (options.offload) set_offloads();
  }
  // A persistent device of that name left by someone else would survive us; make it ours.
  if (::ioctl(fd_.get(), TUNSETPERSIST, 0) != 0) fail("TUNSETPERSIST 0 " + name);

  const UniqueFd s(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!s.valid()) fail("socket");
  ifreq req = make_ifreq(name_);
  req.ifr_mtu = options.mtu;
  if (::ioctl(s.get(), SIOCSIFMTU, &req) != 0) fail("set MTU of " + name_);
  if (options.disable_gso) {
    ethtool_value gso{ETHTOOL_SGSO, 0};
    req = make_ifreq(name_);
    req.ifr_data = reinterpret_cast<char*>(&gso);
    if (::ioctl(s.get(), SIOCETHTOOL, &req) != 0) fail("turn off GSO on " + name_);
  }
  const std::string conf = "/proc/sys/net/ipv6/conf/" + name_ + "/";
  write_sysctl(conf + "disable_ipv6", "0");
  write_sysctl(conf + "addr_gen_mode", "1");  // no link-local address
  write_sysctl(conf + "accept_ra", "0");      // RAs are the daemons' business, not the kernel's
  req = make_ifreq(name_);
  if (::ioctl(s.get(), SIOCGIFFLAGS, &req) != 0) fail("get flags of " + name_);
  req.ifr_flags = static_cast<short>(req.ifr_flags | IFF_UP);
  if (::ioctl(s.get(), SIOCSIFFLAGS, &req) != 0) fail("bring up " + name_);
  ifindex_ = static_cast<int>(::if_nametoindex(name_.c_str()));
  if (ifindex_ == 0) fail("if_nametoindex " + name_);
}

}  // namespace dmux::net
