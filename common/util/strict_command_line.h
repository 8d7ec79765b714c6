// Command-line parsing every IPdmux program shares: Boost.Program_options with stray positional
// arguments refused (Boost drops them silently when no positional option is declared, so a
// mistyped "dmuxd --config /etc/ipdmux/dmuxd.conf extra" would start with "extra" ignored). Only
// the options code of each program's main includes this.
#pragma once

#include <boost/program_options.hpp>
#include <fstream>
#include <string>

#include "common/util/config_error.h"

namespace dmux {

// Parses argv against `desc`; throws ConfigError("command line", ...) naming the first stray
// argument, or what Boost throws for an unknown or malformed option. `allow_unregistered` keeps
// unknown options (a pre-pass that only looks for --help or --version).
inline boost::program_options::parsed_options parse_strict_command_line(
    int argc, const char* const argv[], const boost::program_options::options_description& desc,
    bool allow_unregistered = false) {
  namespace po = boost::program_options;
  po::command_line_parser parser(argc, argv);
  parser.options(desc);
  if (allow_unregistered) parser.allow_unregistered();
  po::parsed_options parsed = parser.run();
  for (const auto& o : parsed.options) {
    if (o.position_key >= 0 || (o.string_key.empty() && !o.unregistered)) {
      const std::string arg = o.original_tokens.empty() ? std::string("?") : o.original_tokens[0];
      throw ConfigError("command line",
                        "unexpected argument '" + arg + "' (options start with --)");
    }
  }
  return parsed;
}

// Stores into `vm` the options of the INI-style file `path` (what is stored already, the command
// line, wins); throws ConfigError(`option`, ...) if it cannot be opened or does not parse.
inline void store_config_file(const std::string& path,
                              const boost::program_options::options_description& file_options,
                              boost::program_options::variables_map& vm, const char* option) {
  namespace po = boost::program_options;
  std::ifstream in(path);
  if (!in) throw ConfigError(option, "cannot open '" + path + "'");
  try {
    po::store(po::parse_config_file(in, file_options), vm);
  } catch (const po::error& e) {
    throw ConfigError(option, path + ": " + e.what());
  }
}

}  // namespace dmux
