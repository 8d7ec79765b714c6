#include "client/address_offer.h"

#include <algorithm>

namespace dmux::client {

void AddressOffer::on_token(Clock::time_point now) noexcept {
  deadline_ = now;
  unanswered_ = 0;
}

bool AddressOffer::on_timer(Clock::time_point now) noexcept {
  if (now < deadline_) return false;
  ++counters_.solicitations;
  ++unanswered_;
  // Retry soon while unanswered, backing off: 1 s, 2 s, 4 s ... up to the refresh interval.
  const auto shift = std::min<std::uint32_t>(unanswered_ - 1, 16);
  deadline_ =
      now + std::min<std::chrono::milliseconds>(config_.retry * (1u << shift), config_.refresh);
  return true;
}

AddressOffer::Change AddressOffer::on_advert(const Offer& offer, Clock::time_point now) noexcept {
  ++counters_.adverts;
  unanswered_ = 0;
  warned_ = false;
  deadline_ = now + config_.refresh;
  last_advert_ = now;
  expires_ = now + std::chrono::seconds(offer.valid_lifetime_s);
  mtu_ = offer.mtu;
  Ipv6Address a{};
  std::copy(offer.prefix.begin(), offer.prefix.end(), a.begin());
  for (int i = 0; i < 4; ++i) a[12 + i] = static_cast<std::byte>((tag_ >> (24 - 8 * i)) & 0xff);
  if (address_ == a) return Change::kNone;
  const Change c = address_ ? Change::kChanged : Change::kAssigned;
  if (c == Change::kChanged) ++counters_.changes;
  address_ = a;
  return c;
}

AddressOffer::Warning AddressOffer::take_warning(Clock::time_point now) noexcept {
  if (warned_ || unanswered_ <= kWarnAfter) return Warning::kNone;
  if (address_ && now < expires_) return Warning::kNone;
  warned_ = true;
  return address_ ? Warning::kExpired : Warning::kNeverAssigned;
}

}  // namespace dmux::client
