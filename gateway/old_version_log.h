// Tells the operator about clients of an old protocol version (docs/protocol.md 2.1, 17): DATA of
// an unsupported version is dropped and counted by the workers, and this turns the count into a
// log line at most once a minute, naming the newest sender.
//
// Control thread only; the caller passes the counter totals and its clock (testable without
// sleeping). It never sees a packet.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "gateway/dataplane/counters.h"

namespace dmux::gateway {

class OldVersionLog {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr std::chrono::seconds kMinInterval{60};

  // `dropped`: the unsupported_version drops so far; `newest`: the newest sender of one. Returns
  // the line to log, or "" if there is nothing new or the last line is under a minute old.
  std::string on_sample(std::uint64_t dropped, const std::optional<OldVersionSender>& newest,
                        Clock::time_point now);

 private:
  std::uint64_t reported_ = 0;  // drops covered by lines already written
  std::optional<Clock::time_point> last_line_;
};

}  // namespace dmux::gateway
