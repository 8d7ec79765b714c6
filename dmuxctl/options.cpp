#include "dmuxctl/options.h"

#include <boost/program_options.hpp>
#include <filesystem>
#include <sstream>
#include <vector>

namespace po = boost::program_options;

namespace dmux::ctl {
namespace {

constexpr const char* kUsage =
    "dmuxctl: query a running IPdmux daemon (dmuxd, or status of any daemon).\n\n"
    "Usage: dmuxctl [--socket PATH] [--json] COMMAND\n\n"
    "Commands:\n"
    "  status    gateway identity, listeners, packet and drop counters\n"
    "  routers   the routers this gateway may forward to\n"
    "  peers     the other gateways in the mesh: link state, RTT, loss, routers\n"
    "  drain     take this PoP out: announce the dmux-prefix with graceful shutdown\n"
    "            (RFC 8326), then withdraw it; traffic keeps being served meanwhile\n"
    "  undrain   announce the dmux-prefix again (once healthy)\n"
    "  crl FILE  install a revocation list from dmux-ca crl (the mesh spreads it)\n"
    "  ping      check that dmuxd's control thread answers\n\n";

po::options_description visible_options() {
  po::options_description opts("Options");
  // clang-format off
  opts.add_options()
      ("help,h", "show this help")
      ("version", "print the version and exit")
      ("socket,s", po::value<std::string>()->default_value("/run/ipdmux/dmuxd.sock")->value_name("PATH"),
       "the daemon's control socket: dmuxd's, or dmux-provider's, dmux-mcast's or "
       "dmux-client's (--control-socket), which answer status only")
      ("json", "print the raw JSON reply");
  // clang-format on
  return opts;
}

// The request line for `command` and its arguments; throws UsageError.
std::string request_line(const std::string& command, const std::vector<std::string>& args) {
  const bool takes_file = command == "crl";
  if (command != "status" && command != "routers" && command != "peers" && command != "drain" &&
      command != "undrain" && command != "ping" && !takes_file) {
    throw app::UsageError("unknown command '" + command +
                          "' (try status, routers, peers, drain, undrain, crl FILE or ping)");
  }
  if (args.size() != (takes_file ? 1u : 0u))
    throw app::UsageError(command + " takes " +
                          (takes_file ? "one FILE argument" : "no arguments"));
  if (!takes_file) return command;
  return command + " " + std::filesystem::absolute(args[0]).string();  // dmuxd reads it
}

}  // namespace

CommandLine parse_command_line(int argc, const char* const argv[]) {
  const po::options_description opts = visible_options();
  po::options_description hidden;
  hidden.add_options()("command", po::value<std::string>())("argument",
                                                            po::value<std::vector<std::string>>());
  po::options_description all;
  all.add(opts).add(hidden);
  po::positional_options_description pos;
  pos.add("command", 1).add("argument", -1);
  po::variables_map vm;
  try {
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    throw app::UsageError(e.what());
  }
  CommandLine cl;
  std::ostringstream help;
  help << kUsage << opts;
  cl.help_text = help.str();
  cl.version = vm.count("version") > 0;
  cl.help = !cl.version && vm.count("help") > 0;
  if (cl.help || cl.version || !vm.count("command")) return cl;
  cl.socket = vm["socket"].as<std::string>();
  cl.json = vm.count("json") > 0;
  cl.command = vm["command"].as<std::string>();
  cl.line =
      request_line(cl.command, vm.count("argument") ? vm["argument"].as<std::vector<std::string>>()
                                                    : std::vector<std::string>{});
  return cl;
}

}  // namespace dmux::ctl
