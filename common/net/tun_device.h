// A TUN device (IFF_TUN | IFF_NO_PI) for IPv6 routing and injection, shared by dmux-provider and
// dmux-client. Explicitly non-persistent: the kernel removes it, with its addresses and routes,
// when the descriptor closes, including on SIGKILL. No link-local address (so the kernel sends no
// router solicitations or neighbour discovery into it) and no kernel RA processing.
// With `vnet_hdr` every read and write carries a virtio_net_hdr (virtio_hdr.h) first; with
// `offload` too the kernel is told (TUNSETOFFLOAD) that we take partial checksums and TCP (and,
// where the kernel has it, UDP) super-packets, so it hands us up to 64 KiB per read and accepts
// as much per write: see tso.h and gro.h for what the daemon must do with them.
// Start-up code: the constructor throws std::system_error naming what failed. Needs CAP_NET_ADMIN.
#pragma once

#include <string>

#include "common/net/unique_fd.h"

namespace dmux::net {

struct TunOptions {
  int mtu = 1400;
  bool disable_gso = false;  // generic segmentation off: readers see packets of at most the MTU
  bool vnet_hdr = false;     // IFF_VNET_HDR: a virtio_net_hdr before every packet read/written
  bool offload = false;      // with vnet_hdr: TUNSETOFFLOAD CSUM | TSO4 | TSO6 (| USO4 | USO6)
};

class TunDevice {
 public:
  TunDevice(const std::string& name, const TunOptions& options);

  [[nodiscard]] int fd() const noexcept { return fd_.get(); }
  [[nodiscard]] const std::string& name() const noexcept {
    return name_;
  }  // as the kernel named it
  [[nodiscard]] int ifindex() const noexcept { return ifindex_; }
  [[nodiscard]] bool vnet_hdr() const noexcept { return vnet_hdr_; }
  // The TUN_F_* flags the kernel accepted (0 without offload).
  [[nodiscard]] unsigned offloads() const noexcept { return offloads_; }
  // TCP super-packets cross the device (TUN_F_TSO4 | TUN_F_TSO6 accepted).
  [[nodiscard]] bool tso() const noexcept;
  // UDP super-packets cross the device (TUN_F_USO4 | TUN_F_USO6 accepted): GroConfig::coalesce_udp.
  [[nodiscard]] bool uso() const noexcept;

 private:
  void set_offloads();

  UniqueFd fd_;
  std::string name_;
  int ifindex_ = 0;
  bool vnet_hdr_ = false;
  unsigned offloads_ = 0;
};

}  // namespace dmux::net
