#include "rv_app.h"

namespace rendezvous {

RendezvousApp::RendezvousApp(const ipdmux::sdk::RouterOptions& options, const TriggerLimits& limits)
    : router_(options), out_(router_), rv_(limits, out_) {
  router_.on_packet([this](const ipdmux::sdk::Packet& p) { rv_.on_client(p, router_.now()); });
  router_.on_peer_message(
      [this](const ipdmux::sdk::PeerMessage& m) { rv_.on_peer(m, router_.now()); });
  router_.on_peer_change([this](const ipdmux::sdk::PeerState& s) {
    if (s.alive) rv_.on_peer_up(s.endpoint, router_.now());
  });
  router_.every(std::chrono::milliseconds(100), [this] { rv_.expire(router_.now()); });
  router_.status_extra([this] { return rv_.status_json(); });
}

void RendezvousApp::run() { router_.run(); }

}  // namespace rendezvous
