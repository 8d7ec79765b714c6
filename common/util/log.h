// Minimal leveled logging to stderr (journald picks it up under systemd). Control plane only:
// the data path counts, it does not log.
#pragma once

#include <cstdio>
#include <string_view>
#include <utility>

namespace dmux::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void set_level(Level level) noexcept;
bool enabled(Level level) noexcept;
bool parse_level(std::string_view text, Level& out) noexcept;
void write(Level level, const char* fmt, ...) noexcept __attribute__((format(printf, 2, 3)));

}  // namespace dmux::log

#define DMUX_LOG(level, ...)                                                 \
  do {                                                                       \
    if (::dmux::log::enabled(level)) ::dmux::log::write(level, __VA_ARGS__); \
  } while (0)
#define LOG_DEBUG(...) DMUX_LOG(::dmux::log::Level::kDebug, __VA_ARGS__)
#define LOG_INFO(...) DMUX_LOG(::dmux::log::Level::kInfo, __VA_ARGS__)
#define LOG_WARN(...) DMUX_LOG(::dmux::log::Level::kWarn, __VA_ARGS__)
#define LOG_ERROR(...) DMUX_LOG(::dmux::log::Level::kError, __VA_ARGS__)
