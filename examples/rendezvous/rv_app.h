// rendezvous-router's App: RendezvousRouter (the protocol) connected to the SDK's Router (the
// rest). Uses only <ipdmux/router.h>. Start-up code throws what the SDK's Router throws.
#pragma once

#include <ipdmux/router.h>

#include "rv_router.h"

namespace rendezvous {

class RendezvousApp {
 public:
  RendezvousApp(const ipdmux::sdk::RouterOptions& options, const TriggerLimits& limits);
  void run();  // until SIGTERM or SIGINT (the SDK's)

 private:
  class SdkOutput final : public Output {
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

  ipdmux::sdk::Router router_;
  SdkOutput out_;
  RendezvousRouter rv_;
};

}  // namespace rendezvous
