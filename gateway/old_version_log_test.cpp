#include "gateway/old_version_log.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::gateway;
using std::chrono::seconds;

TEST_CASE("old-version DATA is logged at once, then at most once a minute, naming the sender") {
  OldVersionLog log;
  const OldVersionLog::Clock::time_point t0{seconds(1000)};
  const OldVersionSender s{{0xc6120102u, 40000}, 1};
  CHECK(log.on_sample(0, std::nullopt, t0) == "");
  const auto first = log.on_sample(3, s, t0);
  CHECK(first.find("dropped 3 DATA datagrams") != std::string::npos);
  CHECK(first.find("version 1, came from 198.18.1.2:40000") != std::string::npos);
  CHECK(first.find("since start") != std::string::npos);
  // More within the minute: nothing; after it, one line for what came since the last.
  CHECK(log.on_sample(10, s, t0 + seconds(30)) == "");
  CHECK(log.on_sample(12, s, t0 + seconds(59)) == "");
  const auto second = log.on_sample(12, OldVersionSender{{0xc6120103u, 1}, 0}, t0 + seconds(60));
  CHECK(second.find("dropped 9 DATA datagrams") != std::string::npos);
  CHECK(second.find("version 0, came from 198.18.1.3:1") != std::string::npos);
  // Nothing new: nothing, however long it has been.
  CHECK(log.on_sample(12, s, t0 + seconds(600)) == "");
  CHECK(log.on_sample(13, s, t0 + seconds(601)) != "");
}
