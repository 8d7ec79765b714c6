// Policy routing into the TUN device for the generic selectors: a routing table whose only route is
// "default dev TUN" (so it vanishes with the device, even when the daemon is killed), and one
// "ip rule fwmark MARK lookup TABLE" per selector, added once the selector's protocol has a
// return token (until then its packets take the host's own routes: fail-open). A rule left by a
// killed daemon points at an empty table, which the kernel skips (the next rule, main, routes the
// packet natively); the next start removes it. Control plane: every call runs `ip` and blocks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace dmux::client {

class PolicyRoutes {
 public:
  // Removes stale rules of preference `priority`, then adds the table's route through `dev`.
  // Throws std::runtime_error (leaving nothing behind).
  PolicyRoutes(std::string dev, std::uint32_t table, std::uint32_t priority);
  ~PolicyRoutes();
  PolicyRoutes(const PolicyRoutes&) = delete;
  PolicyRoutes& operator=(const PolicyRoutes&) = delete;

  // Routes packets marked `mark` through our table (again: nothing). Throws std::runtime_error.
  void enable(std::uint32_t mark);
  [[nodiscard]] bool enabled(std::uint32_t mark) const noexcept;

  // Removes every IPv4 rule of preference `priority`; returns how many. Never throws.
  static int remove(std::uint32_t priority) noexcept;

 private:
  std::uint32_t table_;
  std::uint32_t priority_;
  std::vector<std::uint32_t> marks_;  // rules we added
};

}  // namespace dmux::client
