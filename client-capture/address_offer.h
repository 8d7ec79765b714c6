// The client's address, learnt from the provider (docs/protocol.md section 13): solicit, take the
// /96 the advertisement offers, append our tag. Re-soliciting periodically keeps the NAT binding
// open and detects a change of our own (NAT-mapped) address: a different /96 means re-address.
//
// Soft state driven by event-named calls with the time passed in (tests use a fake clock). The
// caller sends the RS when on_timer() says so and applies address changes. Single-threaded.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "client-capture/host_net.h"
#include "client-capture/router_discovery.h"

namespace dmux::client {

using Clock = std::chrono::steady_clock;

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

  AddressOffer(const AddressOfferConfig& config, std::uint32_t tag, Clock::time_point now) noexcept
      : config_(config), tag_(tag), deadline_(now) {}

  [[nodiscard]] Clock::time_point next_deadline() const noexcept { return deadline_; }
  // True if an RS is due now (and counts it as sent); reschedules.
  bool on_timer(Clock::time_point now) noexcept;
  // An advertisement arrived (already authenticated by the RETURN token).
  Change on_advert(const Offer& offer, Clock::time_point now) noexcept;

  [[nodiscard]] std::uint32_t tag() const noexcept { return tag_; }
  [[nodiscard]] std::uint64_t token() const noexcept { return tag_; }  // protocol.md section 11
  [[nodiscard]] const std::optional<Ipv6Address>& address() const noexcept { return address_; }
  [[nodiscard]] std::uint32_t mtu() const noexcept { return mtu_; }
  [[nodiscard]] std::uint32_t unanswered() const noexcept { return unanswered_; }
  [[nodiscard]] const AddressOfferCounters& counters() const noexcept { return counters_; }

 private:
  AddressOfferConfig config_;
  std::uint32_t tag_;
  Clock::time_point deadline_;
  std::optional<Ipv6Address> address_;
  std::uint32_t mtu_ = 0;
  std::uint32_t unanswered_ = 0;  // RS sent since the last RA
  AddressOfferCounters counters_;
};

}  // namespace dmux::client
