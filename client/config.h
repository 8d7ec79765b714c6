// dmux-client's configuration: plain structs with defaults. Only options.cpp fills them from the
// command line and config file; every component takes the part it needs.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/net/endpoint.h"
#include "common/util/log.h"

namespace dmux::client {

using Clock = std::chrono::steady_clock;  // soft-state components take their time from callers

// What to capture and how to tag it (docs/client.md, "Selectors").
struct Selector {
  enum class Kind : std::uint8_t {
    kIpv6,           // IPv6 routed into the TUN device, except link-local and link-scope multicast
    kIpv4Multicast,  // IPv4 to 224.0.0.0/4 (IGMP included), not on loopback
    kGeneric,        // IPv4 packets matching an iptables match expression (experimental protocols)
  };
  Kind kind = Kind::kIpv6;
  std::uint16_t proto_id = 0;      // carried in DATA
  std::uint32_t provider_id = 0;   // 0 = any provider
  std::vector<std::string> match;  // generic only: iptables match arguments, e.g. {"-p", "253"}
  // Generic only: the IP protocol `match` names with -p/--protocol (none: any), which a RETURN's
  // packet must carry to be injected; negated: "! -p N", any protocol but N.
  std::optional<std::uint8_t> ip_protocol;
  bool ip_protocol_negated = false;
  std::string text;  // as configured, for logs and status
};

struct ClientConfig {
  net::Endpoint gateway;              // DATA goes here: the anycast address in the dmux-prefix
  net::Endpoint bind{0, 0};           // local UDP endpoint (port 0: the kernel picks one)
  std::vector<Selector> selectors;    // at least one
  std::string tun_name = "dmuxc0";    // TUN device: route for captured IPv6, injection path
  int tun_mtu = 1400;                 // IPvN packets at most this long (protocol.md section 4)
  bool offload = true;                // TSO/GRO through the TUN device, UDP GSO/GRO on the socket
  std::string chain = "DMUX-CLIENT";  // our own iptables/ip6tables chain in the mangle table
  std::uint32_t fwmark = 0xd30000;    // firewall mark of the first selector; selector i: +i
  std::uint32_t route_table = 4467;   // policy routing table into the TUN device, also the
                                      // preference of its rules (so below main's 32766)
  std::vector<std::string> ipv6_routes{"::/0"};  // IPv6 prefixes routed into the TUN device
  bool phase_out = true;                         // skip IPv6 capture while the host has native IPv6
  std::chrono::milliseconds solicit_interval{25000};  // address refresh and NAT keepalive
  std::string control_socket;                         // UNIX socket for 'status' (empty: none)
  std::string control_group;                    // operator group given the control socket ("": own)
  std::optional<net::Endpoint> metrics_listen;  // Prometheus /metrics over HTTP; nullopt = off
  log::Level log_level = log::Level::kInfo;
};

}  // namespace dmux::client
