// Our own chain in the mangle table's OUTPUT, for iptables and ip6tables (iptables-nft): created
// at start, removed at exit. Its rules only mark packets (and clamp TCP MSS); the policy routing
// rules (policy_routes.h) route marked packets into the TUN device. A chain left behind by a
// killed predecessor is removed first; while it exists without us it marks packets for a routing
// table that vanished with the TUN device, so they take the host's own routes: nothing is
// black-holed. Also removes a filter-table chain of the same name (the NFQUEUE rules of earlier
// versions). Control plane; the constructor throws std::runtime_error (leaving nothing behind).
#pragma once

#include <string>
#include <vector>

#include "client/selector.h"

namespace dmux::client {

class FirewallRules {
 public:
  FirewallRules(std::string chain, const std::vector<Rule>& rules);
  ~FirewallRules();
  FirewallRules(const FirewallRules&) = delete;
  FirewallRules& operator=(const FirewallRules&) = delete;

  // Removes the jump from OUTPUT and the chain, for both families and both tables, if present.
  // Returns how many chains there were to remove. Never throws.
  static int remove(const std::string& chain) noexcept;

 private:
  std::string chain_;
};

}  // namespace dmux::client
