// Registration replies on an agent's socket (dmux-provider, dmux-mcast): the one place that parses
// COOKIE, REGISTER_ACK and KEEPALIVE_ACK and hands each to the registration it belongs to.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "agent/registration_client.h"

namespace dmux::agent {

// Registration replies seen on the listen socket (counted by the agent, which demultiplexes).
struct ControlReplyCounters {
  std::uint64_t received = 0;  // REGISTER_ACK and KEEPALIVE_ACK datagrams
  std::uint64_t bad = 0;       // ... that did not parse (truncated, malformed)
};

// Whether a datagram of type `type` (its second byte, version 2) is a registration reply that
// dispatch_control_reply() takes: wire::MsgType::kCookie, kRegisterAck or kKeepaliveAck.
[[nodiscard]] bool is_registration_reply(std::uint8_t type) noexcept;

// `type` is the datagram's type byte (one is_registration_reply() accepts). Counts the reply, and
// counts it as bad if it does not parse; the first registration that recognises it takes it.
// Never throws: a registration's error is logged.
void dispatch_control_reply(std::span<const std::byte> datagram, std::uint8_t type,
                            std::span<const std::unique_ptr<RegistrationClient>> registrations,
                            const Now& now, ControlReplyCounters& counters) noexcept;

}  // namespace dmux::agent
