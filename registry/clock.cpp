#include "registry/clock.h"

namespace dmux::registry {

Now system_now() noexcept {
  using namespace std::chrono;
  return Now{steady_clock::now(),
             duration_cast<microseconds>(system_clock::now().time_since_epoch()).count()};
}

}  // namespace dmux::registry
