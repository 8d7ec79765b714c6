// rendezvous-router: the rendezvous protocol's router, built on the IPdmux SDK. main only parses
// the command line and connects RendezvousRouter to the SDK's Router.
//   rendezvous-router --listen 198.18.2.2:5000 --gateway 198.18.0.1:4501 --cert p.crt --key p.key
//       [--proto 0x8001] [--peer 198.18.3.2:5000 --peer-key peer.key] [--return-key FILE]
//       [--allow 198.18.0.0/15] [--control SOCKET] [--metrics 127.0.0.1:9471]
//       [--max-lifetime-s 120] [--max-triggers 65536] [--max-per-address 64]
#include <ipdmux/router.h>

#include <cstdio>
#include <exception>
#include <string>

#include "rv_router.h"

namespace {

class SdkOutput final : public rendezvous::Output {
 public:
  explicit SdkOutput(ipdmux::sdk::Router& r) : r_(r) {}
  bool to_client(const ipdmux::sdk::Client& c, std::span<const std::byte> p) noexcept override {
    return r_.send(c, p);
  }
  void to_peers(std::span<const std::byte> p) noexcept override { r_.send_peers(p); }
  void to_peer(const ipdmux::sdk::Client& peer, std::span<const std::byte> p) noexcept override {
    r_.send_peer(peer, p);
  }
  std::uint64_t rt(const ipdmux::sdk::Client& c) const noexcept override {
    return r_.return_token(c);
  }

 private:
  ipdmux::sdk::Router& r_;
};

// Fills `o` and `limits` from argv; returns an error message, or empty.
std::string parse(int argc, char** argv, ipdmux::sdk::RouterOptions& o,
                  rendezvous::TriggerLimits& limits) {
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (i + 1 >= argc) return flag + " needs a value";
    const std::string v = argv[i + 1];
    if (flag == "--proto")
      o.proto_id = static_cast<std::uint16_t>(std::stoul(v, nullptr, 0));
    else if (flag == "--listen")
      o.listen = v;
    else if (flag == "--gateway")
      o.gateways.push_back(v);
    else if (flag == "--cert")
      o.cert_file = v;
    else if (flag == "--key")
      o.key_file = v;
    else if (flag == "--return-key")
      o.return_key_file = v;
    else if (flag == "--allow")
      o.allow_destinations.push_back(v);
    else if (flag == "--peer")
      o.peers.push_back(v);
    else if (flag == "--peer-key")
      o.peer_key_file = v;
    else if (flag == "--control")
      o.control_socket = v;
    else if (flag == "--metrics")
      o.metrics_listen = v;
    else if (flag == "--max-lifetime-s")
      limits.max_lifetime = std::chrono::seconds(std::stoul(v));
    else if (flag == "--max-triggers")
      limits.max_triggers = std::stoul(v);
    else if (flag == "--max-per-address")
      limits.max_per_address = std::stoul(v);
    else
      return "unknown option " + flag;
  }
  return {};
}

}  // namespace

int main(int argc, char** argv) {
  ipdmux::sdk::RouterOptions o;
  o.name = "rendezvous_router";
  o.proto_id = 0x8001;
  rendezvous::TriggerLimits limits;
  try {
    if (const std::string e = parse(argc, argv, o, limits); !e.empty()) {
      std::fprintf(stderr, "rendezvous-router: %s\n", e.c_str());
      return 2;
    }
    ipdmux::sdk::Router router(o);
    SdkOutput out(router);
    rendezvous::RendezvousRouter rv(limits, out);
    router.on_packet([&](const ipdmux::sdk::Packet& p) { rv.on_client(p, router.now()); });
    router.on_peer_message([&](const ipdmux::sdk::PeerMessage& m) { rv.on_peer(m, router.now()); });
    router.on_peer_change([&](const ipdmux::sdk::PeerState& s) {
      if (s.alive) rv.on_peer_up(s.endpoint, router.now());
    });
    router.every(std::chrono::milliseconds(100), [&] { rv.expire(router.now()); });
    router.status_extra([&] { return rv.status_json(); });
    router.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rendezvous-router: %s\n", e.what());
    return 1;
  }
  return 0;
}
