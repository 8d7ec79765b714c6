#include "bgp-glue/systemd_notifier.h"

#include <systemd/sd-daemon.h>

#include <cstdint>

#include "common/util/log.h"

namespace dmux::bgp_glue {

SystemdNotifier::SystemdNotifier(evloop::EventLoop& loop, std::function<bool()> alive)
    : alive_(std::move(alive)) {
  std::uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
    period_ = std::chrono::microseconds(usec);
    timer_ = std::make_unique<evloop::Timer>(loop, [this] {
      if (alive_ && !alive_()) {
        LOG_WARN("watchdog: data plane not making progress; not feeding the watchdog");
        return;
      }
      sd_notify(0, "WATCHDOG=1");
    });
    timer_->start_periodic(period_ / 3);
    LOG_INFO("watchdog: systemd expects a ping every %lld ms", static_cast<long long>(usec / 1000));
  }
}

void SystemdNotifier::ready(const std::string& text) noexcept {
  sd_notify(0, ("READY=1\nSTATUS=" + text).c_str());
  if (watchdog_enabled()) sd_notify(0, "WATCHDOG=1");
}

void SystemdNotifier::status(const std::string& text) noexcept {
  sd_notify(0, ("STATUS=" + text).c_str());
}

void SystemdNotifier::stopping() noexcept { sd_notify(0, "STOPPING=1"); }

}  // namespace dmux::bgp_glue
