// libFuzzer: arbitrary packets at the gateway's raw ICMP socket (anyone can send ICMP), through
// the quote parser and the feedback rules against a registry holding one router.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "registry/router_feedback.h"

namespace {
std::uint64_t fixed_random() { return 1; }
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace dmux::registry;
  static RouterRegistry registry{RegistryConfig{}};
  static RouterFeedback feedback{
      FeedbackConfig{.gateway_id = dmux::wire::GatewayId{0xC6120101}, .tunnel_source = 0}, registry,
      fixed_random};
  static const bool registered = [] {
    Session s;
    s.id = 99;
    s.key_id = 0x1234abcd;
    RegistrationEvidence ev;
    ev.key_id = s.key_id;
    dmux::crypto::TunnelKeyBytes k{};
    ev.key = std::make_shared<dmux::crypto::TunnelKey>(k);
    return registry.on_register(RouterId{dmux::wire::ProtoId{41}, ProviderId{7},
                                         dmux::net::Endpoint{0xC6120D02, 5000}},
                                1, s, TimePoint{}, ev) == AdmitResult::kAccepted;
  }();
  (void)registered;
  const auto bytes = std::as_bytes(std::span(data, size));
  PortUnreachable pu;
  (void)parse_port_unreachable(bytes, pu);
  RouterFeedback::Probe probe;
  (void)feedback.on_icmp(bytes, TimePoint{}, probe);
  return 0;
}
