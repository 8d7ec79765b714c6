// dmux-client's command line and config file (the only Boost.Program_options user). Throws
// ConfigError naming the option.
#pragma once

#include <string>

#include "client/config.h"

namespace dmux::client {

struct CommandLine {
  ClientConfig config;
  bool help = false;
  bool version = false;
  bool check_config = false;
  bool cleanup = false;  // remove a stale chain and exit
  std::string help_text;
};

CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace dmux::client
