// libFuzzer target: RETURN datagrams as they arrive from the network: TOKEN_OFFERs (CTRL), RAs and
// IPv4/IPv6 packets for every selector kind. Tokens are compared in constant time, which the
// fuzzer's comparison tracing cannot see through; so an input whose token field is all zero gets
// the right one written there (the protocol's rt, or for CTRL its latest outstanding nonce), and
// every other input exercises the refusals. The path has an address and a host address. The same
// bytes then go through the capture side (classify, on_captured) as a packet read from the TUN.
#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "client/capture_path.h"
#include "client/selector.h"
#include "common/wire/protocols.h"

namespace {

using namespace dmux::client;

class CountingNonces : public NonceSource {
 public:
  std::uint64_t next_nonce() noexcept override { return ++last_; }

 private:
  std::uint64_t last_ = 0;
};

constexpr std::uint64_t kRt = 0x0102030405060708;

struct Harness {
  CountingNonces nonces;
  std::vector<Selector> selectors{parse_selector("ipv6"), parse_selector("ipv4-multicast"),
                                  parse_selector("generic:proto=exp-0x8001,match=-p 253")};
  std::vector<TokenProtocol> protocols{{1, 0}, {2, 0}, {0x8001, 0}};
  ReturnTokens tokens{ReturnTokensConfig{}, protocols, nonces, Clock::time_point{}};
  CapturePath path{CapturePathConfig{.selectors = selectors, .max_packet = 1400}, tokens};
  Clock::time_point now{};
  std::array<std::uint64_t, 3> nonce{};  // per protocol: the latest request's

  void tick() {
    now += std::chrono::milliseconds(100);  // refreshes and retries fall due
    std::array<TokenRequest, 3> due{};
    const std::size_t n = tokens.on_timer(now, due);
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t p = 0; p < protocols.size(); ++p) {
        if (protocols[p].proto_id == due[i].proto_id) nonce[p] = due[i].nonce;
      }
    }
  }

  // The token an input with a zero token field gets: an rt, or a nonce for CTRL.
  std::uint64_t valid_token(std::uint16_t proto_id, bool control) const {
    for (std::size_t p = 0; p < protocols.size(); ++p) {
      if (protocols[p].proto_id != proto_id) continue;
      if (control) return nonce[p];
      return tokens.current(proto_id).value_or(0);
    }
    return 0;
  }

  Harness() {
    std::array<TokenRequest, 3> due{};
    tokens.on_timer(now, due);
    for (const TokenRequest& r : due) {
      TokenUpdate u;
      tokens.on_offer(r.proto_id, r.nonce,
                      dmux::wire::TokenOffer{.return_token = kRt + r.proto_id,
                                             .client_ipv4 = 0xc6120102,
                                             .client_port = 40000,
                                             .refresh_s = 25},
                      now, u);
    }
    Ipv6Address a{};
    a[0] = std::byte{0x20};
    a[1] = std::byte{0x01};
    path.set_address(a);
    path.host_addresses().replace({0xc6120102});
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static Harness h;
  h.tick();
  std::vector<std::byte> datagram(reinterpret_cast<const std::byte*>(data),
                                  reinterpret_cast<const std::byte*>(data) + size);
  if (size >= dmux::wire::kReturnHeaderLen &&
      std::all_of(datagram.begin() + 12, datagram.begin() + 20,
                  [](std::byte b) { return b == std::byte{0}; })) {
    const auto proto = static_cast<std::uint16_t>((data[4] << 8) | data[5]);
    std::uint64_t t = h.valid_token(proto, (data[3] & dmux::wire::kFlagControl) != 0);
    for (int i = 19; i >= 12; --i, t >>= 8) datagram[static_cast<std::size_t>(i)] = std::byte(t);
  }
  ReturnResult r;
  (void)h.path.on_return(datagram, h.now, r);
  // The same bytes as a packet read from the TUN device (any local process can send one).
  std::array<std::byte, dmux::wire::kDataHeaderLen> header{};
  (void)h.path.on_captured(
      std::span<const std::byte>(reinterpret_cast<const std::byte*>(data), size), header);
  return 0;
}
