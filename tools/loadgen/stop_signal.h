// SIGINT/SIGTERM as a flag the hot loops poll. Handlers are installed without SA_RESTART, so a
// blocking receive returns EINTR and the loop sees the flag at once.
#pragma once

namespace dmux::loadgen {

void install_stop_handlers() noexcept;
[[nodiscard]] bool stop_requested() noexcept;

}  // namespace dmux::loadgen
