// The host's IPv4 addresses mirrored onto the TUN device (as /32, scope host, no prefix route),
// for the ipv4-multicast selector. A multicast send with a known source address and no interface
// (a socket connected to the group, or bound to a local address: iperf, most senders) is routed
// by the kernel out of the device that holds that source address, past every route and rule
// (the "vic/vat" rule in net/ipv4/route.c), and that device is the newest holder of the address:
// the mirror, so the packet goes into the TUN device (and is fragmented to its MTU) like every
// other group packet. Fail-open by construction: the mirrors vanish with the device when the
// daemon dies, and the address's other holder takes over again. Never picked as a source
// address (scope host); the host's addresses stay local with or without them.
//
// Control plane: update() runs `ip` through Ops and blocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "client/host_net.h"

namespace dmux::client {

class AddressMirror {
 public:
  // Adds and removes one mirrored address on the TUN device.
  class Ops {
   public:
    virtual void add(std::uint32_t address) = 0;  // throws std::exception
    virtual void remove(std::uint32_t address) noexcept = 0;
    // Whether the kernel finds our mirror of `address` first (true if it cannot tell).
    virtual bool found_first(std::uint32_t address) noexcept = 0;

   protected:
    ~Ops() = default;
  };

  // `tun` is the device the mirrors are on (its own addresses are never mirrored again).
  AddressMirror(std::string tun, Ops& ops) : tun_(std::move(tun)), ops_(ops) {}

  // Brings the mirrors in line with the host's addresses now: mirrors new ones, mirrors again
  // those that moved to another interface or that the kernel no longer finds first (the host
  // removed and added the address again: the mirror must be the newest holder again), removes
  // those the host no longer has. Returns how many additions failed (retried next time).
  int update(const std::vector<InterfaceAddress>& host) noexcept;

  // What is mirrored: each address and the interface it mirrors.
  [[nodiscard]] const std::vector<InterfaceAddress>& mirrored() const noexcept { return mirrored_; }

 private:
  std::string tun_;
  Ops& ops_;
  [[nodiscard]] bool is_shadowed(std::uint32_t address) const noexcept;

  std::vector<InterfaceAddress> mirrored_;
  std::vector<std::uint32_t> shadowed_;  // mirrored, but not found first even right after adding
};

// Ops through `ip -4 addr` on `dev` (interface index `ifindex`) and an rtnetlink route query.
class IpAddressOps final : public AddressMirror::Ops {
 public:
  IpAddressOps(std::string dev, int ifindex) : dev_(std::move(dev)), ifindex_(ifindex) {}
  void add(std::uint32_t address) override { add_ipv4_address(dev_, address); }
  void remove(std::uint32_t address) noexcept override { remove_ipv4_address(dev_, address); }
  bool found_first(std::uint32_t address) noexcept override {
    const int oif = sourced_multicast_device(address);
    return oif == 0 || oif == ifindex_;
  }

 private:
  std::string dev_;
  int ifindex_;
};

}  // namespace dmux::client
