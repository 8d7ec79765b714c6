// dmuxctl's command line: `dmuxctl [--socket PATH] [--json] COMMAND [FILE]`. The only code that
// knows Boost.Program_options.
#pragma once

#include <string>

#include "common/app/tool.h"

namespace dmux::ctl {

struct CommandLine : app::ToolFlags {
  std::string socket;   // the daemon's control socket
  std::string command;  // "status", ...; "" if none was given (help, exit 2)
  std::string line;     // the request sent: the command, and crl's file as an absolute path
  bool json = false;    // print the raw JSON reply
};

// Throws app::UsageError (an unknown command, a wrong number of arguments, a bad option).
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::ctl
