#include "agent/destination_filter.h"

#include <algorithm>
#include <array>

namespace dmux::agent {
namespace {

constexpr std::uint32_t ip(std::uint32_t a, std::uint32_t b, std::uint32_t c, std::uint32_t d) {
  return (a << 24) | (b << 16) | (c << 8) | d;
}

// RFC 6890 (with RFC 8190's updates) and the multicast and reserved blocks.
constexpr std::array<net::Ipv4Prefix, 19> kSpecialPurpose = {{
    {ip(0, 0, 0, 0), 8},           // "this network"
    {ip(10, 0, 0, 0), 8},          // private
    {ip(100, 64, 0, 0), 10},       // shared address space (carrier-grade NAT)
    {ip(127, 0, 0, 0), 8},         // loopback
    {ip(169, 254, 0, 0), 16},      // link-local (cloud metadata services live here)
    {ip(172, 16, 0, 0), 12},       // private
    {ip(192, 0, 0, 0), 24},        // IETF protocol assignments
    {ip(192, 0, 2, 0), 24},        // documentation (TEST-NET-1)
    {ip(192, 31, 196, 0), 24},     // AS112-v4
    {ip(192, 52, 193, 0), 24},     // AMT
    {ip(192, 88, 99, 0), 24},      // 6to4 relay anycast
    {ip(192, 168, 0, 0), 16},      // private
    {ip(192, 175, 48, 0), 24},     // direct delegation AS112
    {ip(198, 18, 0, 0), 15},       // benchmarking
    {ip(198, 51, 100, 0), 24},     // documentation (TEST-NET-2)
    {ip(203, 0, 113, 0), 24},      // documentation (TEST-NET-3)
    {ip(224, 0, 0, 0), 4},         // multicast
    {ip(240, 0, 0, 0), 4},         // reserved
    {ip(255, 255, 255, 255), 32},  // limited broadcast
}};

}  // namespace

DestinationFilter::DestinationFilter(std::vector<net::Ipv4Prefix> allowed)
    : allowed_(std::move(allowed)) {}

bool DestinationFilter::contains(const net::Ipv4Prefix& prefix, std::uint32_t ipv4) noexcept {
  const std::uint32_t mask = prefix.length == 0 ? 0 : ~std::uint32_t{0} << (32 - prefix.length);
  return (ipv4 & mask) == prefix.addr;
}

std::span<const net::Ipv4Prefix> DestinationFilter::special_purpose() noexcept {
  return kSpecialPurpose;
}

bool DestinationFilter::allows(std::uint32_t ipv4, std::uint16_t port) const noexcept {
  if (port == 0) return false;
  const auto in = [ipv4](const net::Ipv4Prefix& p) { return contains(p, ipv4); };
  if (std::none_of(kSpecialPurpose.begin(), kSpecialPurpose.end(), in)) return true;
  return std::any_of(allowed_.begin(), allowed_.end(), in);
}

}  // namespace dmux::agent
