// dmuxctl: the operator's command-line client for dmuxd's control socket.
#include <boost/program_options.hpp>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <nlohmann/json.hpp>
#include <vector>

#include "common/util/version.h"
#include "dmuxctl/control_client.h"
#include "dmuxctl/render.h"
#include "dmuxctl/render_agents.h"

namespace po = boost::program_options;

int main(int argc, char** argv) {
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
    std::fprintf(stderr, "dmuxctl: error: %s\n", e.what());
    return 2;
  }
  if (vm.count("version")) {
    std::cout << dmux::build::version_line("dmuxctl") << "\n";
    return 0;
  }
  if (vm.count("help") || !vm.count("command")) {
    std::cout << "dmuxctl: query a running IPdmux daemon (dmuxd, or status of any daemon).\n\n"
                 "Usage: dmuxctl [--socket PATH] [--json] COMMAND\n\n"
                 "Commands:\n"
                 "  status    gateway identity, listeners, packet and drop counters\n"
                 "  routers   the routers this gateway may forward to\n"
                 "  peers     the other gateways in the mesh: link state, RTT, loss, routers\n"
                 "  drain     take this PoP out: announce the dmux-prefix with graceful shutdown\n"
                 "            (RFC 8326), then withdraw it; traffic keeps being served meanwhile\n"
                 "  undrain   announce the dmux-prefix again (once healthy)\n"
                 "  crl FILE  install a revocation list from dmux-ca crl (the mesh spreads it)\n"
                 "  ping      check that dmuxd's control thread answers\n\n"
              << opts;
    return vm.count("help") ? 0 : 2;
  }
  const auto command = vm["command"].as<std::string>();
  const auto args = vm.count("argument") ? vm["argument"].as<std::vector<std::string>>()
                                         : std::vector<std::string>{};
  const bool takes_file = command == "crl";
  if (command != "status" && command != "routers" && command != "peers" && command != "drain" &&
      command != "undrain" && command != "ping" && !takes_file) {
    std::fprintf(stderr,
                 "dmuxctl: error: unknown command '%s' (try status, routers, peers, drain, "
                 "undrain, crl FILE or ping)\n",
                 command.c_str());
    return 2;
  }
  if (args.size() != (takes_file ? 1u : 0u)) {
    std::fprintf(stderr, "dmuxctl: error: %s takes %s\n", command.c_str(),
                 takes_file ? "one FILE argument" : "no arguments");
    return 2;
  }
  std::string line = command;
  if (takes_file) line += " " + std::filesystem::absolute(args[0]).string();  // dmuxd reads it
  try {
    const auto reply = dmux::ctl::request(vm["socket"].as<std::string>(), line);
    const auto doc = nlohmann::json::parse(reply);
    if (doc.contains("error")) {
      std::fprintf(stderr, "dmuxctl: the daemon says: %s\n",
                   doc["error"].get<std::string>().c_str());
      return 1;
    }
    if (vm.count("json")) {
      std::cout << doc.dump(2) << "\n";
    } else if (command == "ping" || command == "crl") {
      std::cout << "ok\n";
    } else if (command == "status" || command == "drain" || command == "undrain") {
      std::cout << dmux::ctl::render_any_status(doc);
    } else if (command == "peers") {
      std::cout << dmux::ctl::render_peers(doc);
    } else {
      std::cout << dmux::ctl::render_routers(doc);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "dmuxctl: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
