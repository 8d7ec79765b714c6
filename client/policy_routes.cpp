#include "client/policy_routes.h"

#include <algorithm>

#include "client/command.h"
#include "common/util/log.h"

namespace dmux::client {

int PolicyRoutes::remove(std::uint32_t priority) noexcept {
  int removed = 0;
  try {
    while (run_command({"ip", "-4", "rule", "del", "pref", std::to_string(priority)}) == 0)
      ++removed;
  } catch (const std::exception& e) {
    LOG_ERROR("removing policy routing rules of preference %u: %s", priority, e.what());
  }
  return removed;
}

PolicyRoutes::PolicyRoutes(std::string dev, std::uint32_t table, std::uint32_t priority)
    : table_(table), priority_(priority) {
  if (const int stale = remove(priority_); stale > 0)
    LOG_WARN("removed %d stale policy routing rule(s) of preference %u left by a previous run",
             stale, priority_);
  run_checked(
      {"ip", "-4", "route", "replace", "default", "dev", dev, "table", std::to_string(table_)});
}

PolicyRoutes::~PolicyRoutes() {
  for (const std::uint32_t mark : marks_) {
    try {
      run_command({"ip", "-4", "rule", "del", "pref", std::to_string(priority_), "fwmark",
                   std::to_string(mark), "lookup", std::to_string(table_)});
    } catch (const std::exception& e) {
      LOG_ERROR("removing the policy routing rule for mark %u: %s", mark, e.what());
    }
  }
}

bool PolicyRoutes::enabled(std::uint32_t mark) const noexcept {
  return std::find(marks_.begin(), marks_.end(), mark) != marks_.end();
}

void PolicyRoutes::enable(std::uint32_t mark) {
  if (enabled(mark)) return;
  marks_.reserve(marks_.size() + 1);
  run_checked({"ip", "-4", "rule", "add", "pref", std::to_string(priority_), "fwmark",
               std::to_string(mark), "lookup", std::to_string(table_)});
  marks_.push_back(mark);
}

}  // namespace dmux::client
