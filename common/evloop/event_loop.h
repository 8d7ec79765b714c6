// The one wrapper around libevent. Feature code uses EventLoop, IoWatcher, Timer and
// SignalWatcher; nothing else in IPdmux sees an event_base.
//
// Threading: an EventLoop and everything attached to it belong to the thread that calls run().
// The only call allowed from other threads is EventLoop::stop().
#pragma once

#include <chrono>
#include <functional>
#include <memory>

struct event_base;
struct event;

namespace dmux::evloop {

class EventLoop {
 public:
  EventLoop();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  // Runs until stop() is called. Returns immediately if stop() was already called.
  void run();
  // Thread-safe and async-signal-safe: wakes the loop and makes run() return.
  void stop() noexcept;

  event_base* base() const noexcept { return base_; }  // for the wrappers below only

 private:
  event_base* base_;
  int wake_fd_;  // eventfd written by stop()
  event* wake_event_;
};

// Calls back when a file descriptor is readable. Persistent until destroyed. With an
// `on_writable` callback, write readiness is also reported, but only while want_write(true).
class IoWatcher {
 public:
  IoWatcher(EventLoop& loop, int fd, std::function<void()> on_readable);
  IoWatcher(EventLoop& loop, int fd, std::function<void()> on_readable,
            std::function<void()> on_writable);
  ~IoWatcher();
  IoWatcher(const IoWatcher&) = delete;
  IoWatcher& operator=(const IoWatcher&) = delete;

  // Turns write-readiness callbacks on or off (no-op without an on_writable callback).
  void want_write(bool on) noexcept;

 private:
  std::function<void()> cb_;
  std::function<void()> write_cb_;
  event* ev_;
  event* write_ev_ = nullptr;
  bool write_armed_ = false;
};

// A timer; periodic or one-shot. Destroying it cancels it.
class Timer {
 public:
  Timer(EventLoop& loop, std::function<void()> on_fire);
  ~Timer();
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  void start_once(std::chrono::microseconds after);
  void start_periodic(std::chrono::microseconds every);
  void cancel() noexcept;
  // True while started and not yet fired (a one-shot) or not cancelled (periodic).
  [[nodiscard]] bool pending() const noexcept;

 private:
  EventLoop& loop_;
  std::function<void()> cb_;
  event* ev_ = nullptr;
};

// Delivers a signal as an ordinary callback on the loop's thread.
class SignalWatcher {
 public:
  SignalWatcher(EventLoop& loop, int signo, std::function<void()> on_signal);
  ~SignalWatcher();
  SignalWatcher(const SignalWatcher&) = delete;
  SignalWatcher& operator=(const SignalWatcher&) = delete;

 private:
  std::function<void()> cb_;
  event* ev_;
};

}  // namespace dmux::evloop
