#include "common/evloop/event_loop.h"

#include <event2/event.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <stdexcept>
#include <system_error>

namespace dmux::evloop {
namespace {

void call_std_function(evutil_socket_t, short, void* arg) {
  (*static_cast<std::function<void()>*>(arg))();
}

timeval to_timeval(std::chrono::microseconds us) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(us.count() / 1'000'000);
  tv.tv_usec = static_cast<suseconds_t>(us.count() % 1'000'000);
  return tv;
}

event* must(event* ev, const char* what) {
  if (ev == nullptr) throw std::runtime_error(std::string("libevent: cannot create ") + what);
  return ev;
}

}  // namespace

EventLoop::EventLoop() : base_(event_base_new()), wake_fd_(-1), wake_event_(nullptr) {
  if (base_ == nullptr) throw std::runtime_error("libevent: event_base_new failed");
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) {
    event_base_free(base_);
    throw std::system_error(errno, std::generic_category(), "eventfd");
  }
  wake_event_ = event_new(
      base_, wake_fd_, EV_READ | EV_PERSIST,
      [](evutil_socket_t fd, short, void* arg) {
        std::uint64_t v = 0;
        [[maybe_unused]] auto n = ::read(fd, &v, sizeof v);
        event_base_loopbreak(static_cast<event_base*>(arg));
      },
      base_);
  event_add(wake_event_, nullptr);
}

EventLoop::~EventLoop() {
  event_free(wake_event_);
  ::close(wake_fd_);
  event_base_free(base_);
}

void EventLoop::run() {
  // A stop() that came before run() left the eventfd readable, so the loop breaks at once.
  event_base_loop(base_, 0);
}

void EventLoop::stop() noexcept {
  const std::uint64_t one = 1;
  [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
}

IoWatcher::IoWatcher(EventLoop& loop, int fd, std::function<void()> on_readable)
    : cb_(std::move(on_readable)),
      ev_(must(event_new(loop.base(), fd, EV_READ | EV_PERSIST, call_std_function, &cb_),
               "io event")) {
  event_add(ev_, nullptr);
}

IoWatcher::IoWatcher(EventLoop& loop, int fd, std::function<void()> on_readable,
                     std::function<void()> on_writable)
    : IoWatcher(loop, fd, std::move(on_readable)) {
  write_cb_ = std::move(on_writable);
  write_ev_ = event_new(loop.base(), fd, EV_WRITE | EV_PERSIST, call_std_function, &write_cb_);
  // The delegated constructor has finished, so the destructor frees ev_ if this throws.
  if (write_ev_ == nullptr) throw std::runtime_error("libevent: cannot create write event");
}

IoWatcher::~IoWatcher() {
  if (write_ev_ != nullptr) event_free(write_ev_);
  event_free(ev_);
}

void IoWatcher::want_write(bool on) noexcept {
  if (write_ev_ == nullptr || on == write_armed_) return;
  if (on) {
    event_add(write_ev_, nullptr);
  } else {
    event_del(write_ev_);
  }
  write_armed_ = on;
}

Timer::Timer(EventLoop& loop, std::function<void()> on_fire)
    : loop_(loop), cb_(std::move(on_fire)) {}

Timer::~Timer() { cancel(); }

void Timer::start_once(std::chrono::microseconds after) {
  cancel();
  ev_ = must(event_new(loop_.base(), -1, 0, call_std_function, &cb_), "timer");
  const timeval tv = to_timeval(after);
  event_add(ev_, &tv);
}

void Timer::start_periodic(std::chrono::microseconds every) {
  cancel();
  ev_ = must(event_new(loop_.base(), -1, EV_PERSIST, call_std_function, &cb_), "timer");
  const timeval tv = to_timeval(every);
  event_add(ev_, &tv);
}

bool Timer::pending() const noexcept {
  return ev_ != nullptr && event_pending(ev_, EV_TIMEOUT, nullptr) != 0;
}

void Timer::cancel() noexcept {
  if (ev_ != nullptr) {
    event_free(ev_);
    ev_ = nullptr;
  }
}

SignalWatcher::SignalWatcher(EventLoop& loop, int signo, std::function<void()> on_signal)
    : cb_(std::move(on_signal)),
      ev_(must(evsignal_new(loop.base(), signo, call_std_function, &cb_), "signal event")) {
  event_add(ev_, nullptr);
}

SignalWatcher::~SignalWatcher() { event_free(ev_); }

}  // namespace dmux::evloop
