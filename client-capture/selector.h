// Parsing selectors from their text form and turning them into iptables rules. Control plane;
// throws ConfigError (option "capture") on bad text.
//
// Text form: KIND[:KEY=VALUE,...] with KIND one of ipv6, ipv4-multicast, generic, and keys
// provider=N (0 or absent: any), proto=NAME|NUMBER (required for generic, default for the
// others) and, for generic only and last, match=IPTABLES-MATCH (spaces separate arguments).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "client-capture/config.h"

namespace dmux::client {

Selector parse_selector(std::string_view text);

// One rule appended to our chain: the arguments after "-A CHAIN".
struct Rule {
  int family = 4;  // 4: iptables, 6: ip6tables
  std::vector<std::string> args;
};

// The rules that queue what `s` selects to NFQUEUE `queue` (with --queue-bypass).
std::vector<Rule> selector_rules(const Selector& s, std::uint16_t queue, const std::string& tun);

}  // namespace dmux::client
