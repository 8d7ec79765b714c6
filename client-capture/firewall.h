// Our own chain in the filter table's OUTPUT, for iptables and ip6tables (iptables-nft): created at
// start, removed at exit. A chain left behind by a killed predecessor is removed first; while it
// exists without us, --queue-bypass lets its packets through, so nothing is black-holed.
// Control plane; the constructor throws std::runtime_error (leaving nothing behind).
#pragma once

#include <string>
#include <vector>

#include "client-capture/selector.h"

namespace dmux::client {

class FirewallRules {
 public:
  FirewallRules(std::string chain, const std::vector<Rule>& rules);
  ~FirewallRules();
  FirewallRules(const FirewallRules&) = delete;
  FirewallRules& operator=(const FirewallRules&) = delete;

  // Removes the jump from OUTPUT and the chain, for both families, if present. Returns how many
  // families had a chain to remove. Never throws.
  static int remove(const std::string& chain) noexcept;

 private:
  std::string chain_;
};

}  // namespace dmux::client
