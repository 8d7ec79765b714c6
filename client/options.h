// dmux-client's command line and config file (the only Boost.Program_options user). Throws
// ConfigError naming the option.
#pragma once

#include <string>

#include "client/config.h"
#include "common/app/program.h"

namespace dmux::client {

struct CommandLine : app::StandardFlags {
  ClientConfig config;
  bool cleanup = false;  // remove a stale chain and exit
};

CommandLine parse_command_line(int argc, const char* const* argv);

}  // namespace dmux::client
