// sd_notify(3) for dmuxd under systemd (Type=notify, WatchdogSec=): READY=1 once serving,
// WATCHDOG=1 from the control thread's event loop at a third of the watchdog period (only while
// the data plane makes progress), STATUS= lines, STOPPING=1 on shutdown. Without NOTIFY_SOCKET
// (not started by systemd) every call is a no-op.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "common/evloop/event_loop.h"

namespace dmux::bgp_glue {

class SystemdNotifier {
 public:
  // `alive` is asked before each watchdog ping; false skips the ping (systemd then restarts us).
  SystemdNotifier(evloop::EventLoop& loop, std::function<bool()> alive);

  void ready(const std::string& status) noexcept;
  void status(const std::string& status) noexcept;
  void stopping() noexcept;

  [[nodiscard]] bool watchdog_enabled() const noexcept { return period_.count() > 0; }
  [[nodiscard]] std::chrono::microseconds watchdog_period() const noexcept { return period_; }

 private:
  std::function<bool()> alive_;
  std::chrono::microseconds period_{0};
  std::unique_ptr<evloop::Timer> timer_;
};

}  // namespace dmux::bgp_glue
