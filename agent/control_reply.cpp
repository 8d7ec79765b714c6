#include "agent/control_reply.h"

#include "common/util/log.h"
#include "common/wire/registration.h"

namespace dmux::agent {
namespace {

// Parses a reply of type Msg and offers it to each registration until one takes it.
template <typename Msg, typename Parse, typename Offer>
void offer(std::span<const std::byte> datagram, Parse parse, Offer take,
           std::span<const std::unique_ptr<RegistrationClient>> registrations,
           ControlReplyCounters& counters) {
  Msg m;
  if (parse(datagram, m) != wire::ParseStatus::kOk) {
    ++counters.bad;
    return;
  }
  for (const auto& r : registrations) {
    if (take(*r, m)) break;
  }
}

}  // namespace

bool is_registration_reply(std::uint8_t type) noexcept {
  using enum wire::MsgType;
  const auto t = static_cast<wire::MsgType>(type);
  return t == kCookie || t == kRegisterAck || t == kKeepaliveAck;
}

void dispatch_control_reply(std::span<const std::byte> datagram, std::uint8_t type,
                            std::span<const std::unique_ptr<RegistrationClient>> registrations,
                            const Now& now, ControlReplyCounters& counters) noexcept {
  ++counters.received;
  try {
    switch (static_cast<wire::MsgType>(type)) {
      case wire::MsgType::kCookie:
        offer<wire::CookieMsg>(
            datagram, wire::parse_cookie,
            [&](RegistrationClient& r, const wire::CookieMsg& m) { return r.on_cookie(m, now); },
            registrations, counters);
        break;
      case wire::MsgType::kRegisterAck:
        offer<wire::RegisterAckMsg>(
            datagram, wire::parse_register_ack,
            [&](RegistrationClient& r, const wire::RegisterAckMsg& m) {
              return r.on_register_ack(datagram, m, now);
            },
            registrations, counters);
        break;
      case wire::MsgType::kKeepaliveAck:
        offer<wire::KeepaliveAckMsg>(
            datagram, wire::parse_keepalive_ack,
            [&](RegistrationClient& r, const wire::KeepaliveAckMsg& m) {
              return r.on_keepalive_ack(datagram, m, now);
            },
            registrations, counters);
        break;
      default:
        ++counters.bad;
    }
  } catch (const std::exception& e) {
    LOG_ERROR("handling a registration reply: %s", e.what());
  }
}

}  // namespace dmux::agent
