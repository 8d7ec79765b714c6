// The names of the options every IPdmux daemon offers alike, written once (standard_options.h
// declares them; each daemon's option_names.h refers to these).
#pragma once

namespace dmux::app::opt {

// Read from the command line only.
inline constexpr const char* kHelp = "help";
inline constexpr const char* kVersion = "version";
inline constexpr const char* kConfig = "config";
inline constexpr const char* kCheckConfig = "check-config";
// The operator's, also in the config file.
inline constexpr const char* kControlSocket = "control-socket";
inline constexpr const char* kControlGroup = "control-group";
inline constexpr const char* kMetricsListen = "metrics-listen";
inline constexpr const char* kLogLevel = "log-level";

}  // namespace dmux::app::opt
