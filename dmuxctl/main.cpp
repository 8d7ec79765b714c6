// dmuxctl: the operator's command-line client for a daemon's control socket. The tool skeleton
// (common/app/tool.h) with dmuxctl's command line, one request and its reply rendered.
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "dmuxctl/control_client.h"
#include "dmuxctl/options.h"
#include "dmuxctl/render.h"
#include "dmuxctl/render_agents.h"

namespace {

using dmux::ctl::CommandLine;

// What the reply to `cl.command` prints.
std::string rendered(const CommandLine& cl, const nlohmann::json& doc) {
  if (cl.json) return doc.dump(2) + "\n";
  if (cl.command == "ping" || cl.command == "crl") return "ok\n";
  if (cl.command == "status" || cl.command == "drain" || cl.command == "undrain")
    return dmux::ctl::render_any_status(doc);
  if (cl.command == "peers") return dmux::ctl::render_peers(doc);
  return dmux::ctl::render_routers(doc);
}

int run(const CommandLine& cl) {
  if (cl.command.empty()) {  // no command: the help, as a usage error
    std::fputs(cl.help_text.c_str(), stdout);
    return 2;
  }
  const auto doc = nlohmann::json::parse(dmux::ctl::request(cl.socket, cl.line));
  if (doc.contains("error")) {
    std::fprintf(stderr, "dmuxctl: the daemon says: %s\n", doc["error"].get<std::string>().c_str());
    return 1;
  }
  std::cout << rendered(cl, doc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return dmux::app::run_tool<CommandLine>(
      argc, argv, {.name = "dmuxctl", .parse = dmux::ctl::parse_command_line, .run = run});
}
