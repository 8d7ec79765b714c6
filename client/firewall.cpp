#include "client/firewall.h"

#include "client/command.h"
#include "common/util/log.h"

namespace dmux::client {
namespace {

const char* tool(int family) { return family == 6 ? "ip6tables" : "iptables"; }

std::vector<std::string> cmd(int family, std::initializer_list<std::string> args,
                             const char* table = "mangle") {
  std::vector<std::string> v{tool(family), "-w", "-t", table};
  v.insert(v.end(), args);
  return v;
}

}  // namespace

int FirewallRules::remove(const std::string& chain) noexcept {
  int removed = 0;
  try {
    for (const char* table : {"mangle", "filter"}) {
      for (const int family : {4, 6}) {
        // The jump may have been inserted more than once by racing predecessors: remove them all.
        while (run_command(cmd(family, {"-D", "OUTPUT", "-j", chain}, table)) == 0) {
        }
        if (run_command(cmd(family, {"-F", chain}, table)) == 0 &&
            run_command(cmd(family, {"-X", chain}, table)) == 0) {
          ++removed;
        }
      }
    }
  } catch (const std::exception& e) {
    LOG_ERROR("removing iptables chain %s: %s", chain.c_str(), e.what());
  }
  return removed;
}

FirewallRules::FirewallRules(std::string chain, const std::vector<Rule>& rules)
    : chain_(std::move(chain)) {
  if (const int stale = remove(chain_); stale > 0)
    LOG_WARN("removed a stale %s chain left by a previous run", chain_.c_str());
  try {
    for (const int family : {4, 6}) {
      bool used = false;
      for (const Rule& r : rules) used |= r.family == family;
      if (!used) continue;
      run_checked(cmd(family, {"-N", chain_}));
      for (const Rule& r : rules) {
        if (r.family != family) continue;
        std::vector<std::string> a = cmd(family, {"-A", chain_});
        a.insert(a.end(), r.args.begin(), r.args.end());
        run_checked(a);
      }
      run_checked(cmd(family, {"-I", "OUTPUT", "1", "-j", chain_}));
    }
  } catch (...) {
    remove(chain_);
    throw;
  }
}

FirewallRules::~FirewallRules() { remove(chain_); }

}  // namespace dmux::client
