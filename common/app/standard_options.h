// The options every IPdmux daemon offers alike, described once: the program's (--help, --version,
// --config, --check-config; command line only) and the operator's (--control-socket,
// --control-group, --metrics-listen, --log-level; also in the config file), with each daemon's
// defaults passed in. Only the options code of each program includes this (Boost).
#pragma once

#include <boost/program_options.hpp>
#include <sstream>
#include <string>

#include "common/app/operator_options.h"
#include "common/app/option_names.h"
#include "common/util/option_errors.h"
#include "common/util/strict_command_line.h"

namespace dmux::app {

inline constexpr unsigned kHelpWidth = 100;  // columns of --help output
inline constexpr unsigned kHelpIndent = 50;  // where the descriptions start

// The "Program" group: --help/-h, --version, --config/-c FILE, --check-config (whose text says
// what the daemon checks).
inline boost::program_options::options_description program_options(const char* check_config_help) {
  namespace po = boost::program_options;
  po::options_description d("Program", kHelpWidth, kHelpIndent);
  d.add_options()((std::string(opt::kHelp) + ",h").c_str(), "show this help and exit")(
      opt::kVersion, "print the version and exit")(
      (std::string(opt::kConfig) + ",c").c_str(), po::value<std::string>()->value_name("FILE"),
      "read options from FILE (INI style 'name = value'); command-line options override it")(
      opt::kCheckConfig, check_config_help);
  return d;
}

// A daemon's defaults of the operator options.
struct OperatorDefaults {
  const char* control_socket = nullptr;  // nullptr: no control socket unless given
  const char* control_socket_help = "UNIX socket answering 'status' with one JSON document";
  const char* metrics_listen = "off";
};

// Adds --control-socket, --control-group, --metrics-listen and --log-level to `d`.
inline void add_operator_options(boost::program_options::options_description& d,
                                 const OperatorDefaults& defaults) {
  namespace po = boost::program_options;
  auto* socket = po::value<std::string>()->value_name("PATH");
  if (defaults.control_socket) socket->default_value(defaults.control_socket);
  const std::string socket_help = std::string(defaults.control_socket_help) +
                                  (defaults.control_socket ? "" : " (default: none)");
  d.add_options()(opt::kControlSocket, socket, socket_help.c_str())(
      opt::kControlGroup, po::value<std::string>()->value_name("GROUP"),
      "give the control socket to this group (mode 0660), so its members may run dmuxctl "
      "(default: the daemon's own group)")(
      opt::kMetricsListen,
      po::value<std::string>()->value_name("ADDR:PORT|off")->default_value(defaults.metrics_listen),
      "Prometheus metrics endpoint (/metrics), or 'off'")(
      opt::kLogLevel, po::value<std::string>()->value_name("LEVEL")->default_value("info"),
      "debug, info, warn or error");
}

// Sets `c`'s control_socket, control_group, metrics_listen and log_level from the options
// add_operator_options declared; throws ConfigError naming a bad one.
template <typename Config>
void read_operator_options(const boost::program_options::variables_map& vm, Config& c) {
  const auto text = [&](const char* name) { return vm[name].as<std::string>(); };
  if (vm.count(opt::kControlSocket))
    c.control_socket = checked_control_socket(text(opt::kControlSocket), opt::kControlSocket);
  if (vm.count(opt::kControlGroup))
    c.control_group = checked_control_group(text(opt::kControlGroup), opt::kControlGroup);
  c.metrics_listen = checked_metrics_listen(text(opt::kMetricsListen), opt::kMetricsListen);
  c.log_level = checked_log_level(text(opt::kLogLevel), opt::kLogLevel);
}

// --help's text: `before` (what the program is, its usage), the options, `after` (examples, docs).
inline std::string help_text(const char* before,
                             const boost::program_options::options_description& all,
                             const char* after) {
  std::ostringstream help;
  help << before << all << after;
  return help.str();
}

// The command line of a daemon whose options are `all`: the program options and `file_options`
// (those a --config FILE may hold, which the command line overrides). Fills the standard flags,
// and, unless --help or --version was given, `config` from to_config(variables). Throws
// ConfigError naming the option.
template <typename CommandLine, typename ToConfig>
CommandLine parse_standard_command_line(
    int argc, const char* const argv[], const boost::program_options::options_description& all,
    const boost::program_options::options_description& file_options, std::string help_text,
    ToConfig to_config) {
  namespace po = boost::program_options;
  try {
    CommandLine cl;
    cl.help_text = std::move(help_text);
    po::variables_map vm;
    po::store(parse_strict_command_line(argc, argv, all), vm);
    if (vm.count(opt::kConfig))
      store_config_file(vm[opt::kConfig].as<std::string>(), file_options, vm, opt::kConfig);
    po::notify(vm);
    cl.help = vm.count(opt::kHelp) > 0;
    cl.version = !cl.help && vm.count(opt::kVersion) > 0;
    if (!cl.help && !cl.version) {
      cl.check_config = vm.count(opt::kCheckConfig) > 0;
      cl.config = to_config(vm);
    }
    return cl;
  } catch (...) {
    rethrow_as_config_error();
  }
}

}  // namespace dmux::app
