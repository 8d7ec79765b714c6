#include "agent/registration_status.h"

#include "common/net/endpoint.h"
#include "common/wire/protocols.h"

namespace dmux::agent {

using nlohmann::json;

json registration_json(const RegistrationClient& r) {
  const RegistrationCounters& c = r.counters();
  const bool up = r.state() == RegistrationState::kRegistered;
  return json{
      {"protocol", wire::protocol_name(r.config().proto_id)},
      {"proto_id", r.config().proto_id.value()},
      {"state", to_string(r.state())},
      {"gateway_id", up ? net::ipv4_to_string(r.gateway_id().value()) : ""},
      {"session_id", up ? r.session_id() : 0},
      {"keepalive_interval_ms", up ? r.keepalive_interval().count() : 0},
      {"hold_time_ms", up ? r.hold_time().count() : 0},
      {"gateway_rtt_us", up && r.rtt() ? r.rtt()->count() : 0},  // 0 = not measured yet
      {"retry_delay_ms", r.retry_delay().count()},
      {"registers_sent", c.registers_sent},
      {"registrations", c.registrations},
      {"refusals", c.refusals},
      {"keepalives_sent", c.keepalives_sent},
      {"keepalive_acks", c.keepalive_acks},
      {"bad_macs", c.bad_macs},
      {"unknown_session_hints", c.unknown_session_hints},
      {"reregistrations", c.reregistrations},
      {"ignored_replies", c.ignored},
  };
}

RegistrationSample registration_sample(const RegistrationClient& r) {
  return {r.config().proto_id, r.state() == RegistrationState::kRegistered, r.counters()};
}

}  // namespace dmux::agent
