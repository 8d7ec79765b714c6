// The skeleton of every IPdmux daemon's main(): parse the command line, answer --help and
// --version, read what the options name (credentials, keys), answer --check-config, set the log
// level, build the daemon's App and run it. Each main() fills a ProgramSpec with what is its own.
// Exit codes: 0 done, 2 bad configuration ("PROGRAM: error: --OPTION: REASON"), 1 failure at run
// time ("PROGRAM: error: REASON").
#pragma once

#include <csignal>
#include <cstdio>
#include <exception>
#include <functional>
#include <optional>
#include <string>

#include "common/app/tool.h"
#include "common/util/config_error.h"
#include "common/util/log.h"

namespace dmux::app {

// The standard part of every daemon's CommandLine (its options.h adds `config`, whose
// `log_level` the skeleton sets).
struct StandardFlags {
  bool help = false;
  bool version = false;
  bool check_config = false;
  std::string help_text;
};

// `Loaded` is what the App is built from: the config and what load() read beside it.
template <typename CommandLine, typename Loaded>
struct ProgramSpec {
  const char* name;  // "dmuxd": the messages' prefix and --version's
  std::function<CommandLine(int, const char* const*)> parse;  // throws ConfigError
  // A program's own action instead of running (dmux-client --cleanup): true if it did it (exit 0).
  std::function<bool(const CommandLine&)> own_action;
  // Reads the files the options name; throws ConfigError, or std::exception (both exit 2).
  std::function<Loaded(CommandLine&)> load;
  std::function<std::string(const Loaded&)> summary;  // --check-config's line
  std::function<void(Loaded&)> run;                   // builds the App and runs it
};

template <typename CommandLine, typename Loaded>
int run_program(int argc, char** argv, const ProgramSpec<CommandLine, Loaded>& spec) {
  const auto fail = [&](const char* what, int code) {
    std::fprintf(stderr, "%s: error: %s\n", spec.name, what);
    return code;
  };
  CommandLine cl;
  std::optional<Loaded> loaded;
  try {
    cl = spec.parse(argc, argv);
    if (answered_help_or_version(cl, spec.name)) return 0;
    if (spec.own_action && spec.own_action(cl)) return 0;
    log::set_level(cl.config.log_level);
    loaded.emplace(spec.load(cl));
  } catch (const ConfigError& e) {
    return fail(e.message().c_str(), 2);
  } catch (const std::exception& e) {
    return fail(e.what(), 2);
  }
  if (cl.check_config) {
    std::puts(spec.summary(*loaded).c_str());
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);  // a peer that vanishes mid-write is an error return
  try {
    spec.run(*loaded);
  } catch (const std::exception& e) {
    return fail(e.what(), 1);
  }
  return 0;
}

}  // namespace dmux::app
