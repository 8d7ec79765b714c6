#include "common/util/log.h"

#include <atomic>
#include <cstdarg>
#include <ctime>

namespace dmux::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
constexpr const char* kNames[] = {"debug", "info", "warn", "error"};
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

void write(Level level, const char* fmt, ...) noexcept {
  char msg[1024];
  va_list ap;
  va_start(ap, fmt);
  std::vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t{};
  gmtime_r(&ts.tv_sec, &t);
  std::fprintf(stderr, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ %-5s %s\n", t.tm_year + 1900,
               t.tm_mon + 1, t.tm_mday, t.tm_hour, t.tm_min, t.tm_sec, ts.tv_nsec / 1'000'000,
               kNames[static_cast<int>(level)], msg);
}

}  // namespace dmux::log
