// The host's network configuration the daemon changes or looks at: the TUN device's address and
// routes (through iproute2), whether the host has native IPv6 (the phase-out), and the host's own
// IPv4 addresses. Control plane;
// the mutators throw std::runtime_error.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace dmux::client {

using Ipv6Address = std::array<std::byte, 16>;

std::string to_string(const Ipv6Address& a);

// "ip -6 addr replace ADDR/128 dev DEV nodad" and "ip -6 addr del ...".
void add_address(const std::string& dev, const Ipv6Address& a);
void remove_address(const std::string& dev, const Ipv6Address& a) noexcept;
// "ip -6 route replace PREFIX dev DEV metric 1024", and "ip -6 route del ..." (already gone: fine).
void add_route(const std::string& dev, const std::string& prefix);
void remove_route(const std::string& dev, const std::string& prefix);

// What IPv4 multicast through the TUN device needs: "ip route replace 224.0.0.0/4 dev DEV" (so
// joins with no interface given, and sends to a group, use the device), and rp_filter off on it (so
// group packets from other clients' addresses, injected into it, are accepted). Logs a warning if
// the host-wide rp_filter is strict (the kernel applies the larger of "all" and the device's).
// Both disappear with the device.
void enable_ipv4_multicast(const std::string& dev);

// An IPv4 address (host order) and the interface that holds it.
struct InterfaceAddress {
  std::uint32_t address = 0;
  std::string dev;
  friend bool operator==(const InterfaceAddress&, const InterfaceAddress&) = default;
};

// The IPv4 unicast addresses of the host's interfaces (getifaddrs), host order, without
// 0.0.0.0/8 and 127.0.0.0/8, in the kernel's order. Throws std::system_error if getifaddrs fails.
std::vector<InterfaceAddress> interface_ipv4_addresses();
// The same addresses without their interfaces.
std::vector<std::uint32_t> host_ipv4_addresses();

// "ip -4 addr replace ADDR/32 dev DEV scope host noprefixroute" and "ip -4 addr del ADDR/32 dev
// DEV" (already gone: fine): a host address mirrored onto the TUN device (address_mirror.h).
void add_ipv4_address(const std::string& dev, std::uint32_t address);
void remove_ipv4_address(const std::string& dev, std::uint32_t address) noexcept;
// The interface index the kernel sends a multicast packet from `source` (no interface given) out
// of (rtnetlink RTM_GETROUTE, as `ip route get 224.0.0.1 from SOURCE`), or 0 if it cannot tell.
int sourced_multicast_device(std::uint32_t source) noexcept;

// True if the host has an IPv6 default route through a device other than `our_dev` and lo
// (read from /proc/net/ipv6_route): native connectivity, so IPv6 need not be captured.
bool has_native_ipv6(const std::string& our_dev);

}  // namespace dmux::client
