// One JSON object per run, on one line, for scripts (bench/forwarding/run.sh reads these). Each
// line names the subcommand and repeats the settings that produced it.
#pragma once

#include <string>

#include "tools/loadgen/config.h"
#include "tools/loadgen/echoer.h"
#include "tools/loadgen/pinger.h"
#include "tools/loadgen/sender.h"
#include "tools/loadgen/sink.h"

namespace dmux::loadgen {

std::string to_json_line(const SendConfig& config, const SendReport& report);
std::string to_json_line(const SinkConfig& config, const SinkReport& report);
std::string to_json_line(const PingConfig& config, const PingReport& report);
std::string to_json_line(const EchoConfig& config, const EchoReport& report);

}  // namespace dmux::loadgen
