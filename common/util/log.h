// Minimal leveled logging to stderr. Control plane only: the data path counts, it does not log.
//
// Every call site is rate limited on its own (a burst of 20 lines, then 5 a second): a flood of
// bad input cannot flood the log, and the next line a site may write says how many it suppressed.
// Under systemd (JOURNAL_STREAM set) each line starts with its syslog priority, "<3>" for error
// to "<7>" for debug, so journald files it at the right level and `journalctl -p err` finds it.
#pragma once

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <string_view>
#include <utility>

namespace dmux::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level) noexcept;
bool enabled(Level level) noexcept;
bool parse_level(std::string_view text, Level& out) noexcept;
void write(Level level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

// One call site's budget (GCRA: a line is allowed when the site's theoretical arrival time is
// within the burst of now). Thread-safe, lock-free, never allocates.
class SiteLimiter {
 public:
  static constexpr std::int64_t kIntervalNs =
      200'000'000;  // 5 lines a second once the burst is spent
  static constexpr std::int64_t kBurst = 20;
  // True if the line may be written; then `suppressed` says how many were dropped before it.
  bool allow(std::int64_t now_ns, std::uint64_t& suppressed) noexcept;

 private:
  std::atomic<std::int64_t> tat_ns_{0};
  std::atomic<std::uint64_t> suppressed_{0};
};

// write() with the site's budget; not for direct use (the macros below).
void write_limited(SiteLimiter& site, Level level, const char* fmt, ...) noexcept
    __attribute__((format(printf, 3, 4)));

}  // namespace dmux::log

#define DMUX_LOG(level, ...)                                          \
  do {                                                                \
    if (::dmux::log::enabled(level)) {                                \
      static ::dmux::log::SiteLimiter dmux_log_site_;                 \
      ::dmux::log::write_limited(dmux_log_site_, level, __VA_ARGS__); \
    }                                                                 \
  } while (0)
#define LOG_DEBUG(...) DMUX_LOG(::dmux::log::Level::kDebug, __VA_ARGS__)
#define LOG_INFO(...) DMUX_LOG(::dmux::log::Level::kInfo, __VA_ARGS__)
#define LOG_WARN(...) DMUX_LOG(::dmux::log::Level::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) DMUX_LOG(::dmux::log::Level::kError, __VA_ARGS__)
