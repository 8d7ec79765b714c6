#include "gateway/old_version_log.h"

#include "common/wire/shim.h"

namespace dmux::gateway {

std::string OldVersionLog::on_sample(std::uint64_t dropped,
                                     const std::optional<OldVersionSender>& newest,
                                     Clock::time_point now) {
  if (dropped <= reported_) return "";
  if (last_line_ && now - *last_line_ < kMinInterval) return "";
  std::string line = "dropped " + std::to_string(dropped - reported_) +
                     " DATA datagrams of an unsupported protocol version " +
                     (last_line_ ? "since the last report" : "since start") +
                     " (this gateway speaks version " + std::to_string(wire::kVersion) +
                     "; docs/protocol.md 17)";
  if (newest) {
    line += "; the newest, version " + std::to_string(newest->version) + ", came from " +
            newest->from.to_string();
  }
  reported_ = dropped;
  last_line_ = now;
  return line;
}

}  // namespace dmux::gateway
