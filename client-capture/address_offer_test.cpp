#include "client-capture/address_offer.h"

#include <doctest/doctest.h>

namespace dmux::client {
namespace {

using namespace std::chrono_literals;

Offer offer(std::uint8_t last) {
  Offer o;
  o.prefix = {std::byte{0x20}, std::byte{0x01}, std::byte{0x0d}, std::byte{0xb8}, std::byte{0},
              std::byte{7},    std::byte{0xc6}, std::byte{0x12}, std::byte{1},    std::byte{last},
              std::byte{0x9c}, std::byte{0x40}};
  o.mtu = 1400;
  return o;
}

}  // namespace

TEST_CASE("solicits at once, retries with back-off, refreshes after an answer") {
  const Clock::time_point t0{};
  AddressOffer a(AddressOfferConfig{.refresh = 25000ms, .retry = 1000ms}, 0xdeadbeef, t0);
  CHECK(a.on_timer(t0));
  CHECK_FALSE(a.on_timer(t0 + 999ms));
  CHECK(a.on_timer(t0 + 1000ms));
  CHECK(a.next_deadline() == t0 + 3000ms);  // 2 s after the second
  CHECK(a.on_advert(offer(2), t0 + 1100ms) == AddressOffer::Change::kAssigned);
  REQUIRE(a.address());
  CHECK(to_string(*a.address()) == "2001:db8:7:c612:102:9c40:dead:beef");
  CHECK(a.next_deadline() == t0 + 26100ms);
  CHECK(a.on_advert(offer(2), t0 + 2000ms) == AddressOffer::Change::kNone);
  CHECK(a.on_advert(offer(3), t0 + 3000ms) == AddressOffer::Change::kChanged);
  CHECK(a.counters().changes == 1);
  CHECK(a.token() == 0xdeadbeef);
}

TEST_CASE("back-off is capped at the refresh interval") {
  const Clock::time_point t0{};
  AddressOffer a(AddressOfferConfig{.refresh = 5000ms, .retry = 1000ms}, 1, t0);
  Clock::time_point t = t0;
  for (int i = 0; i < 40; ++i) {
    CHECK(a.on_timer(t));
    CHECK(a.next_deadline() - t <= 5000ms);
    t = a.next_deadline();
  }
}

}  // namespace dmux::client
