// dmuxd's command line and config file. The only place that knows Boost.Program_options; every
// option's name is written once, in options.cpp.
#pragma once

#include <stdexcept>
#include <string>

#include "common/app/program.h"
#include "common/util/config_error.h"
#include "gateway/config.h"

namespace dmux::gateway {

using dmux::ConfigError;

struct CommandLine : app::StandardFlags {
  GatewayConfig config;
};

// Parses argv and, if --config is given, that file (command-line values win; a list option given
// on the command line replaces the file's list). Throws ConfigError.
CommandLine parse_command_line(int argc, const char* const argv[]);

// Re-reads the config file named in `base` with the same command-line overrides (for SIGHUP).
GatewayConfig reload_config(int argc, const char* const argv[]);

}  // namespace dmux::gateway
