#include "common/util/log.h"

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <ctime>

namespace dmux::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
constexpr int kSyslogPriority[] = {7, 6, 4, 3};  // debug, info, warning, err

bool journal_prefix() noexcept {
  static const bool under_journald = std::getenv("JOURNAL_STREAM") != nullptr;
  return under_journald;
}

std::int64_t monotonic_ns() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

void emit(Level level, const char* msg, std::uint64_t suppressed) noexcept {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  char prefix[8] = "";
  if (journal_prefix()) {
    std::snprintf(prefix, sizeof prefix, "<%d>", kSyslogPriority[static_cast<int>(level)]);
  }
  char tail[64] = "";
  if (suppressed != 0) {
    std::snprintf(tail, sizeof tail, " (%llu similar lines suppressed)",
                  static_cast<unsigned long long>(suppressed));
  }
  std::fprintf(stderr, "%s%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s%s\n", prefix,
               t.tm_year + 1900, t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec,
               ts.tv_nsec / 1'000'000, kNames[static_cast<int>(level)], msg, tail);
}

}  // namespace

void set_level(Level level) noexcept { g_level.store(static_cast<int>(level)); }
bool enabled(Level level) noexcept { return static_cast<int>(level) >= g_level.load(); }

bool parse_level(std::string_view text, Level& out) noexcept {
  for (int i = 0; i < 4; ++i) {
    if (text == kNames[i]) {
      out = static_cast<Level>(i);
      return true;
    }
  }
  return false;
}

bool SiteLimiter::allow(std::int64_t now_ns, std::uint64_t& suppressed) noexcept {
  std::int64_t tat = tat_ns_.load(std::memory_order_relaxed);
  for (;;) {
    if (tat - now_ns > (kBurst - 1) * kIntervalNs) {
      suppressed_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    const std::int64_t next = (tat > now_ns ? tat : now_ns) + kIntervalNs;
    if (tat_ns_.compare_exchange_weak(tat, next, std::memory_order_relaxed)) break;
  }
  suppressed = suppressed_.exchange(0, std::memory_order_relaxed);
  return true;
}

void write(Level level, const char* fmt, ...) noexcept {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(level, msg, 0);
}

void write_limited(SiteLimiter& site, Level level, const char* fmt, ...) noexcept {
  std::uint64_t suppressed = 0;
  if (!site.allow(monotonic_ns(), suppressed)) return;
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  emit(level, msg, suppressed);
}

}  // namespace dmux::log
