// Time as the registry sees it: common/util/clock.h's Now (a monotonic instant for soft state and
// the wall clock for certificate validity and REGISTER freshness). Callers pass it in, so tests
// use a fake clock.
#pragma once

#include "common/util/clock.h"

namespace dmux::registry {

using TimePoint = util::MonoTime;
using Duration = util::MonoDuration;
using util::Now;

}  // namespace dmux::registry
