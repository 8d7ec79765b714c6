// dmuxd's command line and config file. The only place that knows Boost.Program_options; every
// option's name is written once, in options.cpp.
#pragma once

#include <stdexcept>
#include <string>

#include "gateway/config.h"

namespace dmux::gateway {

// A bad option: `option` names it, `what()` says why. main prints one line and exits 2.
class ConfigError : public std::runtime_error {
 public:
  ConfigError(std::string option, const std::string& reason)
      : std::runtime_error(reason), option_(std::move(option)) {}
  [[nodiscard]] const std::string& option() const noexcept { return option_; }

 private:
  std::string option_;
};

struct CommandLine {
  GatewayConfig config;
  bool help = false;
  bool version = false;
  bool check_config = false;
  std::string help_text;
};

// Parses argv and, if --config is given, that file (command-line values win; a list option given
// on the command line replaces the file's list). Throws ConfigError.
CommandLine parse_command_line(int argc, const char* const argv[]);

// Re-reads the config file named in `base` with the same command-line overrides (for SIGHUP).
GatewayConfig reload_config(int argc, const char* const argv[]);

}  // namespace dmux::gateway
