#include "registry/cookie_jar.h"

#include <doctest/doctest.h>

using namespace dmux;
using namespace dmux::registry;
using namespace std::chrono_literals;

TEST_CASE("a cookie is valid for one to two periods, for its source only") {
  const TimePoint t0{};
  CookieJar jar(1000ms, t0);
  const net::Endpoint a{0xc6120202u, 5000};
  const auto c = jar.make(a, t0 + 999ms);
  CHECK(jar.check(a, c, t0 + 999ms));
  CHECK_FALSE(jar.check(net::Endpoint{0xc6120202u, 5001}, c, t0 + 999ms));
  CHECK_FALSE(jar.check(net::Endpoint{0xc6120203u, 5000}, c, t0 + 999ms));
  CHECK(jar.check(a, c, t0 + 1000ms));  // rotated: now the previous secret
  CHECK(jar.check(a, c, t0 + 1999ms));
  CHECK_FALSE(jar.check(a, c, t0 + 2000ms));  // rotated again
  auto tampered = c;
  tampered[15] ^= std::byte{1};
  CHECK_FALSE(jar.check(a, tampered, t0));
}

TEST_CASE("after a long idle spell no old cookie is accepted") {
  const TimePoint t0{};
  CookieJar jar(1000ms, t0);
  const net::Endpoint a{0xc6120202u, 5000};
  const auto c = jar.make(a, t0 + 900ms);
  CHECK_FALSE(jar.check(a, c, t0 + 5000ms));
  const auto fresh = jar.make(a, t0 + 5000ms);
  CHECK(jar.check(a, fresh, t0 + 5000ms));
  CHECK(fresh != c);
}

TEST_CASE("two jars (two gateways) make different cookies for the same source") {
  const TimePoint t0{};
  CookieJar one(1000ms, t0), two(1000ms, t0);
  const net::Endpoint a{0xc6120202u, 5000};
  CHECK_FALSE(two.check(a, one.make(a, t0), t0));
}
