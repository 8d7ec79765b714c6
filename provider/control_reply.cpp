#include "provider/control_reply.h"

#include "common/util/log.h"
#include "common/wire/registration.h"

namespace dmux::provider {

void dispatch_control_reply(std::span<const std::byte> datagram, std::uint8_t type,
                            std::span<const std::unique_ptr<RegistrationClient>> registrations,
                            const Instant& now, ControlReplyCounters& counters) noexcept {
  ++counters.received;
  try {
    if (type == wire::kTypeRegisterAck) {
      wire::RegisterAckMsg ack;
      if (wire::parse_register_ack(datagram, ack) != wire::ParseStatus::kOk) {
        ++counters.bad;
        return;
      }
      for (const auto& r : registrations) {
        if (r->on_register_ack(datagram, ack, now)) break;
      }
    } else {
      wire::KeepaliveAckMsg ack;
      if (wire::parse_keepalive_ack(datagram, ack) != wire::ParseStatus::kOk) {
        ++counters.bad;
        return;
      }
      for (const auto& r : registrations) {
        if (r->on_keepalive_ack(datagram, ack, now)) break;
      }
    }
  } catch (const std::exception& e) {
    LOG_ERROR("handling a registration reply: %s", e.what());
  }
}

}  // namespace dmux::provider
