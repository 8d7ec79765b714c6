#include "client/address_offer.h"

#include <doctest/doctest.h>

#include <vector>

namespace dmux::client {
namespace {

using namespace std::chrono_literals;

Offer offer(std::uint8_t last, std::uint32_t valid_s = 600) {
  Offer o;
  o.prefix = {std::byte{0x20}, std::byte{0x01}, std::byte{0x0d}, std::byte{0xb8},
              std::byte{0},    std::byte{7},    std::byte{0xc6}, std::byte{0x12},
              std::byte{1},    std::byte{last}, std::byte{0x9c}, std::byte{0x40}};
  o.valid_lifetime_s = valid_s;
  o.mtu = 1400;
  return o;
}

constexpr AddressOfferConfig kConfig{.refresh = 25000ms, .retry = 1000ms};

}  // namespace

TEST_CASE("nothing is solicited before the ipv6 token is known") {
  const Clock::time_point t0{};
  AddressOffer a(kConfig, 0xdeadbeef);
  CHECK(a.next_deadline() == Clock::time_point::max());
  CHECK_FALSE(a.on_timer(t0 + 3600s));
  CHECK(a.counters().solicitations == 0);
  a.on_token(t0 + 5s);
  CHECK(a.next_deadline() == t0 + 5s);
  CHECK(a.on_timer(t0 + 5s));
}

TEST_CASE("solicits at once, retries with back-off, refreshes after an answer") {
  const Clock::time_point t0{};
  AddressOffer a(kConfig, 0xdeadbeef);
  a.on_token(t0);
  CHECK(a.on_timer(t0));
  CHECK_FALSE(a.on_timer(t0 + 999ms));
  CHECK(a.on_timer(t0 + 1000ms));
  CHECK(a.next_deadline() == t0 + 3000ms);  // 2 s after the second
  CHECK(a.on_advert(offer(2), t0 + 1100ms) == AddressOffer::Change::kAssigned);
  REQUIRE(a.address());
  CHECK(to_string(*a.address()) == "2001:db8:7:c612:102:9c40:dead:beef");
  CHECK(a.next_deadline() == t0 + 26100ms);
  CHECK(a.expires() == t0 + 1100ms + 600s);
  CHECK(a.on_advert(offer(2), t0 + 2000ms) == AddressOffer::Change::kNone);
  CHECK(a.on_advert(offer(3), t0 + 3000ms) == AddressOffer::Change::kChanged);
  CHECK(a.counters().changes == 1);
  CHECK(a.tag() == 0xdeadbeef);
  // A new token (the binding moved) solicits at once, whatever the refresh said.
  a.on_token(t0 + 4000ms);
  CHECK(a.on_timer(t0 + 4000ms));
}

TEST_CASE("back-off is capped at the refresh interval") {
  const Clock::time_point t0{};
  AddressOffer a(AddressOfferConfig{.refresh = 5000ms, .retry = 1000ms}, 1);
  a.on_token(t0);
  Clock::time_point t = t0;
  for (int i = 0; i < 40; ++i) {
    CHECK(a.on_timer(t));
    CHECK(a.next_deadline() - t <= 5000ms);
    t = a.next_deadline();
  }
}

// Issue 17: unanswered refreshes while the address works are not "no provider".
TEST_CASE("unanswered solicitations warn only without a valid address, once per episode") {
  const Clock::time_point t0{};
  AddressOffer a(kConfig, 1);
  a.on_token(t0);
  Clock::time_point t = t0;
  std::vector<AddressOffer::Warning> warnings;
  for (int i = 0; i < 6; ++i) {
    REQUIRE(a.on_timer(t));
    warnings.push_back(a.take_warning(t));
    t = a.next_deadline();
  }
  using W = AddressOffer::Warning;
  CHECK(warnings ==
        std::vector<W>{W::kNone, W::kNone, W::kNone, W::kNeverAssigned, W::kNone, W::kNone});
  // An address valid for 100 s: refreshes go unanswered, yet it still works: no warning ...
  a.on_advert(offer(2, 100), t);
  const Clock::time_point assigned = t;
  for (int i = 0; i < 6 && t < assigned + 100s; ++i) {
    t = a.next_deadline();
    REQUIRE(a.on_timer(t));
    CHECK(a.take_warning(t) == W::kNone);
  }
  // ... until it has expired.
  while (t < assigned + 100s) {
    t = a.next_deadline();
    REQUIRE(a.on_timer(t));
    if (t < assigned + 100s) CHECK(a.take_warning(t) == W::kNone);
  }
  CHECK(a.take_warning(t) == W::kExpired);
  CHECK(a.take_warning(t) == W::kNone);
  a.on_advert(offer(2, 100), t);  // answered again: a new episode
  CHECK(a.take_warning(t) == W::kNone);
}

}  // namespace dmux::client
