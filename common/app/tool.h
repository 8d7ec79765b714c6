// The skeleton of every IPdmux command-line tool's main() (dmuxctl, dmux-ca, dmux-loadgen). A
// tool is not a daemon (no config file, log level, signals or control socket), but answers
// --help and --version (from CMake's PROJECT_VERSION) like one, and speaks the same messages and
// exit codes: 0 done, 2 bad command line ("TOOL: error: REASON", or "TOOL: error: --OPTION:
// REASON" for a ConfigError), 1 failure ("TOOL: error: REASON", after what it printed).
#pragma once

#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include "common/util/config_error.h"
#include "common/util/version.h"

namespace dmux::app {

// A bad command line; what() is one line naming the command and option.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The standard part of every tool's CommandLine.
struct ToolFlags {
  bool help = false;      // print help_text and exit 0
  bool version = false;   // print the version line and exit 0
  std::string help_text;  // for the command given, or the overview
};

template <typename CommandLine>
struct ToolSpec {
  const char* name;  // "dmuxctl": the messages' prefix and --version's
  std::function<CommandLine(int, const char* const*)> parse;  // throws UsageError, ConfigError
  // Does what the command line asks; returns the exit code. Throws std::exception (exit 1).
  std::function<int(const CommandLine&)> run;
};

// "TOOL: error: REASON" on stderr, after what went to stdout; returns `code`.
inline int tool_error(const char* name, const std::string& reason, int code) {
  std::fflush(stdout);
  std::fprintf(stderr, "%s: error: %s\n", name, reason.c_str());
  return code;
}

// Prints the help or the version line if `flags` ask for one; true if it did.
template <typename Flags>
bool answered_help_or_version(const Flags& flags, const char* name) {
  if (flags.help)
    std::fputs(flags.help_text.c_str(), stdout);
  else if (flags.version)
    std::puts(build::version_line(name).c_str());
  return flags.help || flags.version;
}

// For a tool of commands (`TOOL COMMAND [options]`): a CommandLine asking for the overview's help
// if `first` (argv[1]) is --help, -h or help, for the version if it is --version; none otherwise.
template <typename CommandLine>
std::optional<CommandLine> overview_flags(std::string_view first, const char* overview) {
  if (first != "--help" && first != "-h" && first != "help" && first != "--version")
    return std::nullopt;
  CommandLine cl;
  cl.version = first == "--version";
  cl.help = !cl.version;
  if (cl.help) cl.help_text = overview;
  return cl;
}

template <typename CommandLine>
int run_tool(int argc, char** argv, const ToolSpec<CommandLine>& spec) {
  CommandLine cl;
  try {
    cl = spec.parse(argc, argv);
  } catch (const ConfigError& e) {
    return tool_error(spec.name, e.message(), 2);
  } catch (const std::exception& e) {  // UsageError, or what a parser throws
    return tool_error(spec.name, e.what(), 2);
  }
  if (answered_help_or_version(cl, spec.name)) return 0;
  try {
    return spec.run(cl);
  } catch (const std::exception& e) {
    return tool_error(spec.name, e.what(), 1);
  }
}

}  // namespace dmux::app
