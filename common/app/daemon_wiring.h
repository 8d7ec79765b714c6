// What every daemon's App wires to its event loop alike: the stop and reload signals, the
// control socket, and the once-a-second hand-over to its metrics exporter. Start-up code: throws
// what ControlServer throws.
#pragma once

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/control/control_server.h"
#include "common/evloop/event_loop.h"

namespace dmux::app {

inline const char* signal_name(int signo) noexcept {
  return signo == SIGTERM ? "SIGTERM" : signo == SIGINT ? "SIGINT" : "SIGHUP";
}

// SIGTERM and SIGINT call on_stop(signo) on the loop's thread; SIGHUP calls on_reload, if given
// (without one, SIGHUP keeps its default action).
class StopSignals {
 public:
  StopSignals(evloop::EventLoop& loop, std::function<void(int signo)> on_stop,
              std::function<void()> on_reload = {}) {
    for (const int signo : {SIGTERM, SIGINT}) {
      watchers_.push_back(std::make_unique<evloop::SignalWatcher>(
          loop, signo, [on_stop, signo] { on_stop(signo); }));
    }
    if (on_reload)
      watchers_.push_back(std::make_unique<evloop::SignalWatcher>(loop, SIGHUP, on_reload));
  }

 private:
  std::vector<std::unique_ptr<evloop::SignalWatcher>> watchers_;
};

// The control socket at `path`, handed to `group` ("" = the daemon's own), answering with
// `handler`; none if `path` is empty (the option was not given).
inline std::unique_ptr<control::ControlServer> control_socket(
    evloop::EventLoop& loop, const std::string& path, const std::string& group,
    control::ControlServer::Handler handler) {
  if (path.empty()) return nullptr;
  return std::make_unique<control::ControlServer>(loop, path, std::move(handler),
                                                  control::ControlOptions{.group = group});
}

// Calls `publish` now, then every second on the loop's thread, for as long as the timer lives.
inline std::unique_ptr<evloop::Timer> now_and_every_second(evloop::EventLoop& loop,
                                                           const std::function<void()>& publish) {
  auto timer = std::make_unique<evloop::Timer>(loop, publish);
  publish();
  timer->start_periodic(std::chrono::seconds(1));
  return timer;
}

}  // namespace dmux::app
