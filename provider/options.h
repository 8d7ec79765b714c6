// dmux-provider's command line. The only code that knows Boost.Program_options; option names come
// from option_names.h.
#pragma once

#include <string>

#include "common/app/program.h"
#include "provider/config.h"

namespace dmux::provider {

struct CommandLine : app::StandardFlags {
  ProviderConfig config;
};

// Parses and validates argv (not the credential files: see load_credentials). Throws ConfigError.
CommandLine parse_command_line(int argc, const char* const argv[]);

}  // namespace dmux::provider
