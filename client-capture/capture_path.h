// dmux-client's data path as pure logic, without sockets, NFQUEUE or the TUN device (ClientApp
// does the I/O): a captured packet -> DATA header carrying the protocol's return token; a RETURN
// datagram -> a packet to inject, an address offer, an accepted TOKEN_OFFER, or a counted drop
// (docs/protocol.md 6.3). Everything given to it is untrusted. Never allocates, never throws.
// Single-threaded: the event loop's, which also drives the ReturnTokens it shares.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "client-capture/config.h"
#include "client-capture/counters.h"
#include "client-capture/host_net.h"
#include "client-capture/packet_filter.h"
#include "client-capture/return_tokens.h"
#include "client-capture/router_discovery.h"
#include "common/wire/shim.h"

namespace dmux::client {

struct CapturePathConfig {
  std::vector<Selector> selectors;  // selector i owns NFQUEUE first_queue + i; one per proto_id
  std::uint16_t first_queue = 0;
  std::size_t max_packet = 1400;  // the TUN MTU
};

// What on_return() found, by kind.
struct ReturnResult {
  std::span<const std::byte> packet;  // kInject: the IPvN packet to write into the TUN device
  Offer advert;                       // kAdvert: the address offer
  std::uint16_t proto_id = 0;         // kToken: the protocol whose offer was accepted
  std::uint32_t provider_id = 0;      // kToken: the answering router's provider
  TokenUpdate token;                  // kToken: what the offer changed
};

class CapturePath {
 public:
  enum class ReturnKind { kDrop, kInject, kAdvert, kToken };
  // kSend: tunnel the packet as it is. kSegment: a TCP/IPv6 super-packet longer than the MTU;
  // tunnel it cut with segment_tcp6 (the DATA header is the same for every segment). kDrop: the
  // verdict is DROP (counted). kPass: the protocol has no return token yet; the verdict is ACCEPT,
  // so the packet goes on as if not captured (fail-open). Whether a queue's packets pass depends
  // only on its protocol's token, which changes only between NFQUEUE batches.
  enum class CaptureKind { kDrop, kSend, kSegment, kPass };

  // `tokens` (the return tokens of the active selectors) must outlive the path.
  CapturePath(CapturePathConfig config, ReturnTokens& tokens) noexcept;

  // Our IPv6 address (none until the provider offered one). Control plane.
  void set_address(const std::optional<Ipv6Address>& a) noexcept { address_ = a; }
  // The host's own IPv4 addresses (generic selectors' replies). Control plane.
  HostAddresses& host_addresses() noexcept { return host_; }

  // A packet from NFQUEUE `queue`. Completes a partial checksum in place if `checksum_not_ready`.
  // Unless dropped or passed (and counted), writes the DATA header to `header`.
  CaptureKind on_captured(std::uint16_t queue, std::span<std::byte> packet, bool checksum_not_ready,
                          std::span<std::byte, wire::kDataHeaderLen> header) noexcept;

  // A datagram from the tunnel socket, at `now` (offers schedule the next request).
  ReturnKind on_return(std::span<const std::byte> datagram, Clock::time_point now,
                       ReturnResult& out) noexcept;

  void tunnelled(std::size_t packet_bytes) noexcept;
  void injected(std::size_t packet_bytes) noexcept;
  void failed(Drop reason) noexcept { counters_.drop(reason); }

  [[nodiscard]] const DataPathCounters& counters() const noexcept { return counters_; }

 private:
  [[nodiscard]] const Selector* selector_of(std::uint16_t proto_id) const noexcept;
  ReturnKind drop(Drop reason) noexcept;
  ReturnKind on_control(const wire::ShimHeader& h, std::span<const std::byte> payload,
                        Clock::time_point now, ReturnResult& out) noexcept;
  ReturnKind on_packet(const Selector& s, std::span<const std::byte> packet,
                       ReturnResult& out) noexcept;

  CapturePathConfig config_;
  ReturnTokens& tokens_;
  std::optional<Ipv6Address> address_;
  HostAddresses host_;
  DataPathCounters counters_;
};

}  // namespace dmux::client
