// When a starting dmux-mcast may register (docs/protocol.md 9.9 "Readiness", 14.4): a router that
// takes traffic before its links to the provider's other routers are up loses what it cannot
// forward to them yet, so it registers once every peer has been heard, or, when some stay silent
// (it is alone, or they are down), once `wait` has passed. Pure: the caller passes the time and
// the peers it has heard.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "multicast/member.h"

namespace dmux::multicast {

class Readiness {
 public:
  enum class Verdict : std::uint8_t {
    kWait,      // not yet
    kAllHeard,  // every peer heard: register now
    kAlone,     // `wait` passed with some peers silent: register now anyway
    kDone,      // already said to register
  };

  // Starts waiting at `now` for at most `wait`.
  void start(MonoTime now, std::chrono::milliseconds wait) noexcept { deadline_ = now + wait; }
  // Whether to register now, given `heard` of `peers` peers heard (each "register" once).
  Verdict check(std::size_t heard, std::size_t peers, MonoTime now) noexcept {
    if (deadline_ == MonoTime::max()) return Verdict::kDone;
    if (heard < peers && now < deadline_) return Verdict::kWait;
    deadline_ = MonoTime::max();
    return heard < peers ? Verdict::kAlone : Verdict::kAllHeard;
  }
  // When check() must be called at the latest (MonoTime::max() once done or before start()).
  [[nodiscard]] MonoTime deadline() const noexcept { return deadline_; }

 private:
  MonoTime deadline_ = MonoTime::max();
};

}  // namespace dmux::multicast
