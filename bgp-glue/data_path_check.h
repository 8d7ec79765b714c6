// The verdict of dmux-healthcheck (bgp-glue/README.md "Hangs"): is the dmuxd beside us still
// forwarding? Every interval the checker sends one numbered probe through dmuxd's data port and
// dmuxd tunnels it back (a static router for the health protocol points at the checker). A probe
// not back within `timeout` is missed; `fall` misses in a row mean dead, and the checker withdraws
// the announcement, which dmuxd (if it ever runs again) re-announces after its own health rise.
// `rise` answered probes in a row mean alive again. Only a gateway once seen alive is ever declared
// dead, so a dmuxd that is still starting is left alone.
//
// Pure: the caller sends, receives and passes the time in; no clock, socket or kernel here.
#pragma once

#include <chrono>
#include <cstdint>

namespace dmux::bgp_glue {

struct DataPathCheckConfig {
  std::chrono::milliseconds interval{100};  // one probe per interval
  std::chrono::milliseconds timeout{100};   // a probe back later than this is missed
  unsigned fall = 3;                        // misses in a row: dmuxd is dead or hung
  unsigned rise = 2;                        // answers in a row: it forwards again
};

class DataPathCheck {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;
  enum class Verdict : std::uint8_t { kUnknown, kAlive, kDead };
  enum class Change : std::uint8_t { kNone, kBecameDead, kBecameAlive };

  explicit DataPathCheck(const DataPathCheckConfig& config) : config_(config) {}

  // The sequence number of a probe to send now (call when next_probe() has come).
  std::uint64_t on_send(TimePoint now) noexcept;
  // A probe came back through dmuxd. Unknown or late sequence numbers count for nothing.
  Change on_reply(std::uint64_t seq, TimePoint now) noexcept;
  // Judges the outstanding probe; call at least once per interval (before on_send).
  Change on_timer(TimePoint now) noexcept;

  [[nodiscard]] TimePoint next_probe() const noexcept { return next_; }
  [[nodiscard]] Verdict verdict() const noexcept { return verdict_; }
  [[nodiscard]] std::uint64_t sent() const noexcept { return seq_; }
  [[nodiscard]] std::uint64_t answered() const noexcept { return answered_; }
  [[nodiscard]] std::uint64_t missed() const noexcept { return missed_; }

 private:
  Change judge(bool answered) noexcept;

  DataPathCheckConfig config_;
  std::uint64_t seq_ = 0;     // last sent
  bool outstanding_ = false;  // seq_ neither answered nor missed yet
  TimePoint sent_at_{};
  TimePoint next_{};
  unsigned good_run_ = 0, bad_run_ = 0;
  Verdict verdict_ = Verdict::kUnknown;
  std::uint64_t answered_ = 0, missed_ = 0;
};

}  // namespace dmux::bgp_glue
