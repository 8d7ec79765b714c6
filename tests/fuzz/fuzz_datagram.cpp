// libFuzzer target: every parser of untrusted datagrams (data path and registration) and the
// gateway's per-packet decision.
// Build with -DDMUX_FUZZ=ON and clang; run: build-fuzz/tests/fuzz/fuzz_datagram -max_total_time=30
#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "common/wire/registration.h"
#include "common/wire/shim.h"
#include "gateway/packet_processor.h"

namespace {
const dmux::gateway::ForwardingTable& table() {
  static const dmux::gateway::ForwardingTable t({
      {1, 7, {0xc6120202u, 5000}, dmux::gateway::RouterOrigin::kStatic},
      {1, 9, {0xc6120203u, 5000}, dmux::gateway::RouterOrigin::kStatic},
      {2, 9, {0xc6120204u, 5001}, dmux::gateway::RouterOrigin::kStatic},
  });
  return t;
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::span<const std::byte> in(reinterpret_cast<const std::byte*>(data), size);
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
  }
  {
    wire::RegisterMsg reg;
    if (wire::parse_register(in, reg) == wire::ParseStatus::kOk) {
      // The signed part and the certificate lie inside the datagram.
      if (reg.signed_bytes.size() > in.size() || reg.certificate.size() > wire::kMaxCertificateLen)
        __builtin_trap();
    }
    wire::RegisterAckMsg ack;
    (void)wire::parse_register_ack(in, ack);
    wire::KeepaliveMsg ka;
    std::uint8_t ka_type = 0;
    if (wire::parse_keepalive(in, ka_type, ka) == wire::ParseStatus::kOk &&
        in.size() != wire::kKeepaliveLen) {
      __builtin_trap();
    }
    wire::KeepaliveAckMsg kack;
    (void)wire::parse_keepalive_ack(in, kack);
  }
  std::array<std::byte, wire::kTunnelHeaderLen> hdr{};
  gateway::ForwardAction action;
  gateway::DropReason drop;
  std::uint16_t proto = 0;
  const gateway::ProcessorContext ctx{&table(), 0xc6120001u};
  if (gateway::process_datagram(in, net::Endpoint{0xc6130001u, 40000}, ctx, hdr, action, drop,
                                proto)) {
    // Only routers in the table are ever chosen.
    bool known = false;
    for (const auto& r : table().routers()) known |= r.address == action.router;
    if (!known) __builtin_trap();
  }
  return 0;
}
