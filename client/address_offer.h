// The client's address, learnt from the provider (docs/protocol.md section 13): solicit, take the
// /96 the advertisement offers, append our tag. Re-soliciting periodically keeps the NAT binding
// open and detects a change of our own (NAT-mapped) address: a different /96 means re-address.
//
// Nothing is solicited before the client holds its ipv6 return token (the RS carries it, 13.1):
// on_token() starts soliciting, and starts again at once when the token changes (the binding
// moved). The tag is random and only part of the address; it is not a token.
//
// Soft state driven by event-named calls with the time passed in (tests use a fake clock). The
// caller sends the RS when on_timer() says so and applies address changes. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "client/config.h"
#include "client/host_net.h"
#include "client/router_discovery.h"

namespace dmux::client {

struct AddressOfferConfig {
  std::chrono::milliseconds refresh{25000};  // RS after an answered one (NAT keepalive)
  std::chrono::milliseconds retry{1000};     // first RS retry; doubles up to `refresh`
};

struct AddressOfferCounters {
  std::uint64_t solicitations = 0;  // RS sent
  std::uint64_t adverts = 0;        // usable RA received
  std::uint64_t changes = 0;        // RA offering another /96 than the current one
};

class AddressOffer {
 public:
  enum class Change { kNone, kAssigned, kChanged };
  // Why solicitations go unanswered, once it matters: the host has no usable address.
  enum class Warning { kNone, kNeverAssigned, kExpired };
  // Solicitations in a row without an answer before a warning is due.
  static constexpr std::uint32_t kWarnAfter = 3;

  AddressOffer(const AddressOfferConfig& config, std::uint32_t tag) noexcept
      : config_(config), tag_(tag) {}

  // Clock::time_point::max() until on_token().
  [[nodiscard]] Clock::time_point next_deadline() const noexcept { return deadline_; }
  // The ipv6 return token became known or changed: solicit now, back-off from the start.
  void on_token(Clock::time_point now) noexcept;
  // True if an RS is due now (and counts it as sent); reschedules.
  bool on_timer(Clock::time_point now) noexcept;
  // An advertisement arrived (already authenticated by the RETURN token).
  Change on_advert(const Offer& offer, Clock::time_point now) noexcept;
  // kNone, unless at least kWarnAfter solicitations before the last one went unanswered while the
  // address has expired or was never assigned: then which, once until the next advertisement.
  // (While the address is valid, unanswered solicitations are only retried: it still works.)
  Warning take_warning(Clock::time_point now) noexcept;

  [[nodiscard]] std::uint32_t tag() const noexcept { return tag_; }
  [[nodiscard]] const std::optional<Ipv6Address>& address() const noexcept { return address_; }
  // When the current address's offer runs out (valid lifetime of the last RA).
  [[nodiscard]] Clock::time_point expires() const noexcept { return expires_; }
  [[nodiscard]] Clock::time_point last_advert() const noexcept { return last_advert_; }
  [[nodiscard]] std::uint32_t mtu() const noexcept { return mtu_; }
  [[nodiscard]] std::uint32_t unanswered() const noexcept { return unanswered_; }
  [[nodiscard]] const AddressOfferCounters& counters() const noexcept { return counters_; }

 private:
  AddressOfferConfig config_;
  std::uint32_t tag_;
  Clock::time_point deadline_ = Clock::time_point::max();
  std::optional<Ipv6Address> address_;
  Clock::time_point expires_{};
  Clock::time_point last_advert_{};
  std::uint32_t mtu_ = 0;
  std::uint32_t unanswered_ = 0;  // RS sent since the last RA (or the last on_token)
  bool warned_ = false;           // take_warning() reported this episode already
  AddressOfferCounters counters_;
};

}  // namespace dmux::client
