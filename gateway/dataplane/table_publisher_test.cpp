#include "gateway/dataplane/table_publisher.h"

#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "gateway/dataplane/test_routers.h"

using namespace dmux;
using namespace dmux::gateway;

TEST_CASE("readers see every published table without being stopped") {
  TablePublisher pub;
  std::atomic<bool> done{false};
  std::atomic<std::size_t> last_seen{0};
  std::thread reader([&] {
    std::uint64_t gen = 0;
    std::shared_ptr<const ForwardingTable> t;
    while (!done.load()) {
      if (pub.generation() != gen) {
        gen = pub.generation();
        t = pub.snapshot();
        last_seen = t->size();
      }
    }
  });
  for (std::uint16_t i = 1; i <= 200; ++i) {
    std::vector<RouterEntry> rs;
    for (std::uint16_t k = 0; k < i; ++k) {
      rs.push_back(testing::keyed_router(1, 7, net::Endpoint{0xc6120200u + k, 5000}));
    }
    pub.publish(std::make_shared<const ForwardingTable>(std::move(rs)));
  }
  while (last_seen.load() != 200) std::this_thread::yield();
  done = true;
  reader.join();
  CHECK(pub.snapshot()->size() == 200);
}
