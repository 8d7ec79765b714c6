// libFuzzer target: every parser of untrusted datagrams (data path and registration) and the
// gateway's per-packet decision, which seals what it forwards.
// Build with -DDMUX_FUZZ=ON and clang (scripts/test.sh's build-san); run:
// build-san/tests/fuzz/fuzz_datagram -max_total_time=30
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "common/wire/registration.h"
#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"
#include "gateway/dataplane/packet_processor.h"
#include "gateway/dataplane/test_routers.h"

namespace {
using dmux::gateway::testing::keyed_router;

const dmux::gateway::ForwardingTable& table() {
  static const dmux::gateway::ForwardingTable t({
      keyed_router(1, 7, {0xc6120202u, 5000}),
      keyed_router(1, 9, {0xc6120203u, 5000}),
      keyed_router(2, 9, {0xc6120204u, 5001}),
      {dmux::wire::RouterId{
           dmux::wire::ProtoId{2}, dmux::wire::ProviderId{11}, {0xc6120205u, 5002}},
       dmux::gateway::RouterOrigin::kStatic, dmux::wire::GatewayId{}, 0, nullptr},
  });
  return t;
}

void check_shim_and_tunnel_parsers(std::span<const std::byte> in) {
  using namespace dmux;
  wire::ShimHeader shim;
  wire::TunnelHeader tunnel;
  std::span<const std::byte> payload;
  wire::MsgType type;
  (void)wire::peek_type(in, type);
  for (auto t : {wire::MsgType::kData, wire::MsgType::kReturn}) {
    if (wire::parse_shim(in, t, shim, payload) == wire::ParseStatus::kOk) {
      // Round trip: re-encoding the parsed header gives back the fixed part byte for byte
      // (options are not re-encoded).
      std::array<std::byte, wire::kDataHeaderLen> out{};
      if (wire::write_shim(out, t, shim) != wire::kDataHeaderLen) __builtin_trap();
      if (payload.empty() || payload.data() + payload.size() != in.data() + in.size())
        __builtin_trap();
    }
  }
  if (wire::parse_tunnel(in, tunnel, payload) == wire::ParseStatus::kOk) {
    std::array<std::byte, wire::kTunnelHeaderLen> out{};
    if (wire::write_tunnel(out, tunnel) != wire::kTunnelHeaderLen) __builtin_trap();
    // Opening checks a tag without changing the datagram.
    std::vector<std::byte> copy(in.begin(), in.end());
    (void)wire::open_tunnel(copy, tunnel, *table().routers()[0].key);
    if (!std::equal(copy.begin(), copy.end(), in.begin())) __builtin_trap();
  }
}

void check_registration_parsers(std::span<const std::byte> in) {
  using namespace dmux;
  wire::RegisterMsg reg;
  if (wire::parse_register(in, reg) == wire::ParseStatus::kOk) {
    // The signed part and the certificate lie inside the datagram.
    if (reg.signed_bytes.size() > in.size() || reg.certificate.size() > wire::kMaxCertificateLen)
      __builtin_trap();
  }
  wire::RegisterAckMsg ack;
  (void)wire::parse_register_ack(in, ack);
  wire::KeepaliveMsg ka;
  wire::MsgType ka_type{};
  if (wire::parse_keepalive(in, ka_type, ka) == wire::ParseStatus::kOk &&
      in.size() != wire::kKeepaliveLen) {
    __builtin_trap();
  }
  wire::KeepaliveAckMsg kack;
  (void)wire::parse_keepalive_ack(in, kack);
}

// The gateway's decision: whatever it forwards is a TUNNEL to a keyed router in the table, sealed
// under that router's key, carrying the DATA's payload byte for byte.
void check_gateway(std::span<const std::byte> in) {
  using namespace dmux;
  std::vector<std::byte> slot(gateway::kTunnelHeadroom + in.size());
  std::copy(in.begin(), in.end(), slot.begin() + gateway::kTunnelHeadroom);
  gateway::ForwardAction action;
  gateway::DropReason drop;
  wire::ProtoId proto;
  const gateway::ProcessorContext ctx{&table(), wire::GatewayId{0xc6120001u}};
  if (!gateway::process_datagram(slot, in.size(), net::Endpoint{0xc6130001u, 40000}, ctx, 99,
                                 action, drop, proto)) {
    return;
  }
  const gateway::RouterEntry* router = nullptr;
  for (const auto& r : table().routers()) {
    if (r.id.address == action.router) router = &r;
  }
  if (router == nullptr || !router->key) __builtin_trap();
  std::vector<std::byte> sealed(action.tunnel.begin(), action.tunnel.end());
  wire::TunnelHeader h;
  std::span<const std::byte> payload;
  if (wire::parse_tunnel(sealed, h, payload) != wire::ParseStatus::kOk || h.counter != 99 ||
      !wire::open_tunnel(sealed, h, *router->key)) {
    __builtin_trap();
  }
  if (payload.size() > in.size() ||
      !std::equal(payload.begin(), payload.end(), in.end() - static_cast<long>(payload.size()))) {
    __builtin_trap();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
  check_shim_and_tunnel_parsers(in);
  check_registration_parsers(in);
  check_gateway(in);
  return 0;
}
