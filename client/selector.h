// Parsing selectors from their text form and turning them into iptables mangle rules. Control
// plane; throws ConfigError (option "capture") on bad text.
//
// Text form: KIND[:KEY=VALUE,...] with KIND one of ipv6, ipv4-multicast, generic, and keys
// provider=N (0 or absent: any), proto=NAME|NUMBER (required for generic, default for the
// others) and, for generic only and last, match=IPTABLES-MATCH (spaces separate arguments).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client/config.h"

namespace dmux::client {

Selector parse_selector(std::string_view text);

// One rule appended to our chain in the mangle table: the arguments after "-A CHAIN".
struct Rule {
  int family = 4;  // 4: iptables, 6: ip6tables
  std::vector<std::string> args;
};

// The rules that give what a generic selector `s` selects the firewall mark `mark` (the policy
// routing rule for `mark` then routes it into the TUN device), and clamp the MSS of its TCP SYNs
// to `mtu`. ipv6 and ipv4-multicast selectors need none: their routes into the TUN device
// select their packets.
std::vector<Rule> selector_rules(const Selector& s, std::uint32_t mark, int mtu);

// The rule that clamps the MSS of TCP SYNs leaving through the TUN device `tun` to `mtu` (IPv6:
// the route's MTU already does, this covers routes with a larger one).
Rule ipv6_mss_rule(const std::string& tun, int mtu);

// Whether a packet of IP protocol `protocol` (IPv4, not multicast) may belong to `s`, a generic
// selector: the protocol its match names, if any. Packets read from the TUN device carry no
// mark, so this is how they find their selector (ClientApp refuses selectors it cannot tell
// apart).
[[nodiscard]] bool may_select(const Selector& s, std::uint8_t protocol) noexcept;

// True if some IPv4 packet could match both generic selectors `a` and `b` by may_select().
[[nodiscard]] bool overlap(const Selector& a, const Selector& b) noexcept;

}  // namespace dmux::client
