#include "sdk/peer_channel.h"

#include <algorithm>
#include <cstdlib>

namespace dmux::sdk {

std::string_view to_string(PeerDrop d) noexcept {
  switch (d) {
    case PeerDrop::kTruncated:
      return "peer_truncated";
    case PeerDrop::kMalformed:
      return "peer_malformed";
    case PeerDrop::kUnsupportedVersion:
      return "peer_unsupported_version";
    case PeerDrop::kUnexpectedType:
      return "peer_unexpected_type";
    case PeerDrop::kUnknown:
      return "peer_unknown";
    case PeerDrop::kWrongProvider:
      return "peer_wrong_provider";
    case PeerDrop::kBadMac:
      return "peer_bad_mac";
    case PeerDrop::kStale:
      return "peer_stale";
    case PeerDrop::kReplayed:
      return "peer_replayed";
    case PeerDrop::kCount_:
      break;
  }
  return "unknown";
}

PeerChannel::PeerChannel(const PeerChannelConfig& config, const PeerKey& key,
                         std::uint64_t start_unix_us)
    : config_(config), key_(key), first_seq_(start_unix_us), next_seq_(start_unix_us) {
  for (const net::Endpoint& e : config_.peers) {
    if (e != config_.self) peers_.push_back(PeerInfo{.endpoint = e});
  }
}

std::size_t PeerChannel::seal(std::span<std::byte> out, std::span<const std::byte> payload,
                              std::uint64_t unix_us) noexcept {
  const PeerHeader h{.router_ipv4 = config_.self.addr,
                     .router_port = config_.self.port,
                     .proto_id = config_.proto_id,
                     .provider_id = config_.provider_id,
                     .seq = next_seq_,
                     .sent_us = unix_us};
  const std::size_t n = write_peer_message(out, h, payload, key_);
  if (n != 0) ++next_seq_;
  return n;
}

// A 64-message window below the highest sequence number accepted, as in IPsec.
bool PeerChannel::accept_seq(PeerInfo& p, std::uint64_t seq) noexcept {
  if (p.highest_seq == 0 || seq > p.highest_seq) {
    const std::uint64_t shift = p.highest_seq == 0 ? 64 : seq - p.highest_seq;
    p.seen = shift >= 64 ? 1 : (p.seen << shift) | 1;
    p.highest_seq = seq;
    return true;
  }
  const std::uint64_t back = p.highest_seq - seq;
  if (back >= 64) return false;
  const std::uint64_t bit = std::uint64_t{1} << back;
  if ((p.seen & bit) != 0) return false;
  p.seen |= bit;
  return true;
}

PeerChannel::Verdict PeerChannel::open(std::span<const std::byte> datagram, MonoTime now,
                                       std::uint64_t unix_us, net::Endpoint& from,
                                       std::span<const std::byte>& payload,
                                       bool& became_alive) noexcept {
  PeerHeader h;
  switch (parse_peer_message(datagram, h, payload)) {
    case PeerParse::kOk:
      break;
    case PeerParse::kTruncated:
      return drop(PeerDrop::kTruncated);
    case PeerParse::kMalformed:
      return drop(PeerDrop::kMalformed);
    case PeerParse::kUnsupportedVersion:
      return drop(PeerDrop::kUnsupportedVersion);
    case PeerParse::kUnexpectedType:
      return drop(PeerDrop::kUnexpectedType);
  }
  const net::Endpoint sender{h.router_ipv4, h.router_port};
  const auto it = std::find_if(peers_.begin(), peers_.end(),
                               [&](const PeerInfo& p) { return p.endpoint == sender; });
  if (it == peers_.end()) return drop(PeerDrop::kUnknown);
  if (h.provider_id != config_.provider_id || h.proto_id != config_.proto_id) {
    return drop(PeerDrop::kWrongProvider);
  }
  if (!peer_mac_ok(datagram, key_)) return drop(PeerDrop::kBadMac);
  const std::uint64_t skew_us = static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(config_.max_clock_skew).count());
  const std::uint64_t diff = h.sent_us > unix_us ? h.sent_us - unix_us : unix_us - h.sent_us;
  if (diff > skew_us) return drop(PeerDrop::kStale);
  if (!accept_seq(*it, h.seq)) return drop(PeerDrop::kReplayed);
  became_alive = !it->alive;
  it->alive = true;
  it->last_heard = now;
  ++it->received;
  from = sender;
  return payload.empty() ? Verdict::kHeartbeat : Verdict::kMessage;
}

}  // namespace dmux::sdk
