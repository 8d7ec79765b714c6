// libFuzzer target: arbitrary bytes arriving on an agent's socket as registration replies
// (COOKIE, REGISTER_ACK, KEEPALIVE_ACK), offered to a registration client waiting for each.
#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "agent/control_reply.h"
#include "common/util/log.h"

namespace {

using namespace dmux;
using namespace dmux::agent;

// Keeps the last message sent, so the harness can answer it as a gateway would.
struct LastLink : GatewayLink {
  std::vector<std::byte> last;
  void send(std::span<const std::byte> m) noexcept override { last.assign(m.begin(), m.end()); }
};

std::optional<std::uint32_t> fixed_route(const net::Endpoint&) { return 0xc6120202u; }

struct Agent {
  crypto::SigningKey key = crypto::SigningKey::generate();
  std::vector<std::byte> cert = std::vector<std::byte>(300, std::byte{0x30});
  LastLink link;
  std::vector<std::unique_ptr<RegistrationClient>> clients;
  ControlReplyCounters counters;
  Now now{MonoTime(std::chrono::hours(1)), 1'700'000'000'000'000};

  Agent() {
    log::set_level(log::Level::kError);
    RegistrationConfig c;
    c.proto_id = wire::ProtoId{1};
    c.provider_id = wire::ProviderId{7};
    c.router_port = 5000;
    c.gateway = net::Endpoint{0xc6120001u, 4501};
    c.source_address = &fixed_route;
    clients.push_back(std::make_unique<RegistrationClient>(c, key, cert, link));
    clients.back()->start(now);
  }
};

}  // namespace

// A fuzzer cannot guess 64-bit nonces and timestamps: the harness answers an outstanding
// COOKIE_REQUEST itself and copies the REGISTER's timestamp into a REGISTER_ACK input, so the
// input reaches the MAC checks and the states behind them.
void answer_as_gateway(Agent& a, std::vector<std::byte>& input) {
  wire::CookieRequestMsg req;
  if (wire::parse_cookie_request(a.link.last, req) == wire::ParseStatus::kOk) {
    std::array<std::byte, wire::kCookieReplyLen> c{};
    wire::write_cookie(c, {wire::GatewayId{0xc6120001u}, req.nonce, {}, 60000});
    dispatch_control_reply(c, wire::code(wire::MsgType::kCookie), a.clients, a.now, a.counters);
  }
  wire::RegisterMsg reg;
  if (input.size() == wire::kRegisterAckLen &&
      wire::parse_register(a.link.last, reg) == wire::ParseStatus::kOk) {
    for (int i = 0; i < 8; ++i) {
      input[20 + static_cast<std::size_t>(i)] =
          static_cast<std::byte>(reg.timestamp_us >> (56 - 8 * i));
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Agent a;
  const auto bytes = std::as_bytes(std::span(data, size));
  std::vector<std::byte> input(bytes.begin(), bytes.end());
  answer_as_gateway(a, input);
  const std::uint8_t type = size >= 2 ? data[1] : 0;
  if (is_registration_reply(type))
    dispatch_control_reply(input, type, a.clients, a.now, a.counters);
  a.now.mono += std::chrono::milliseconds(700);  // timers fire now and then: all states are visited
  a.now.unix_us += 700'000;
  a.clients.front()->on_timer(a.now);
  return 0;
}
