// dmux-mcast's command line. The only code that knows Boost.Program_options; option names come
// from option_names.h.
#pragma once

#include <string>

#include "common/app/program.h"
#include "multicast/config.h"

namespace dmux::multicast {

struct CommandLine : app::StandardFlags {
  McastConfig config;
};

// Parses and validates argv (not the files: see load_credentials, load_peer_key). Throws
// ConfigError naming the option.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::multicast
