#include "registry/router_feedback.h"

#include <algorithm>
#include <exception>

#include "common/crypto/data_path_mac.h"
#include "common/crypto/session_key.h"
#include "common/wire/shim.h"
#include "common/wire/tunnel_seal.h"

namespace dmux::registry {
namespace {
constexpr std::uint64_t kProbeBit = std::uint64_t{1} << 63;  // above any agent's counter

// The length of the first TUNNEL in a quoted UDP payload, if all of it is there; 0 if not. A
// gateway sends batches to one router as one UDP GSO send, and a host without a socket refuses
// the unsegmented whole, so the quote may hold several TUNNELs back to back: the next one starts
// where the same header (version, type, hdr_len, flags) and the same gateway_id and key_id recur.
std::size_t first_datagram_len(std::span<const std::byte> q, bool complete) noexcept {
  constexpr std::size_t kGatewayId = 16, kKeyId = 28;
  const auto same = [&](std::size_t at, std::size_t off, std::size_t n) {
    return std::equal(q.begin() + static_cast<std::ptrdiff_t>(off),
                      q.begin() + static_cast<std::ptrdiff_t>(off + n),
                      q.begin() + static_cast<std::ptrdiff_t>(at + off));
  };
  for (std::size_t at = wire::kTunnelHeaderLen + 1; at + wire::kTunnelHeaderLen <= q.size(); ++at) {
    if (same(at, 0, 4) && same(at, kGatewayId, 4) && same(at, kKeyId, 4)) return at;
  }
  return complete ? q.size() : 0;
}

}  // namespace

std::string_view to_string(FeedbackResult r) noexcept {
  switch (r) {
    case FeedbackResult::kIgnored:
      return "ignored";
    case FeedbackResult::kMalformed:
      return "malformed";
    case FeedbackResult::kUnknownRouter:
      return "unknown_router";
    case FeedbackResult::kWrongReporter:
      return "wrong_reporter";
    case FeedbackResult::kBadTag:
      return "bad_tag";
    case FeedbackResult::kStale:
      return "stale";
    case FeedbackResult::kProbeLimited:
      return "probe_limited";
    case FeedbackResult::kProbe:
      return "probe";
    case FeedbackResult::kUnknownProbe:
      return "unknown_probe";
    case FeedbackResult::kConfirmed:
      return "confirmed";
    case FeedbackResult::kCount_:
      break;
  }
  return "unknown";
}

RouterFeedback::RouterFeedback(const FeedbackConfig& config, RouterRegistry& registry,
                               Random random)
    : config_(config), registry_(registry), random_(random) {}

FeedbackResult RouterFeedback::count(FeedbackResult r) noexcept {
  ++counters_.by_result[static_cast<std::size_t>(r)];
  return r;
}

FeedbackResult RouterFeedback::on_icmp(std::span<const std::byte> packet, TimePoint now,
                                       Probe& probe) noexcept {
  PortUnreachable pu;
  switch (parse_port_unreachable(packet, pu)) {
    case QuoteStatus::kOk:
      break;
    case QuoteStatus::kNotApplicable:
      return count(FeedbackResult::kIgnored);
    case QuoteStatus::kTruncated:
    case QuoteStatus::kMalformed:
      return count(FeedbackResult::kMalformed);
  }
  if (config_.tunnel_source != 0 && pu.quoted_src != config_.tunnel_source) {
    return count(FeedbackResult::kIgnored);  // about somebody else's datagram
  }
  wire::MsgType type{};
  if (wire::type_of<wire::MsgType>(pu.payload) == wire::MsgType::kKeepaliveAck)
    return count(on_probe_quote(pu, now));
  if (wire::peek_type(pu.payload, type) != wire::ParseStatus::kOk ||
      type != wire::MsgType::kTunnel) {
    return count(FeedbackResult::kIgnored);
  }
  return count(on_tunnel_quote(pu, now, probe));
}

// The cheap checks first (ids, addresses, counter), the tag last.
FeedbackResult RouterFeedback::on_tunnel_quote(const PortUnreachable& pu, TimePoint now,
                                               Probe& probe) noexcept {
  wire::TunnelHeader h;
  std::span<const std::byte> inner;
  if (wire::parse_tunnel(pu.payload, h, inner) != wire::ParseStatus::kOk) {
    return FeedbackResult::kMalformed;
  }
  const Session* s = h.gateway_id == config_.gateway_id && h.key_id != 0
                         ? registry_.session_by_key_id(h.key_id)
                         : nullptr;
  if (s == nullptr || s->router.address.addr != pu.quoted_dst ||
      s->router.address.port != pu.quoted_dport) {
    return FeedbackResult::kUnknownRouter;
  }
  if (pu.reporter != s->router.address.addr) return FeedbackResult::kWrongReporter;
  const RegistrationEvidence* ev = registry_.evidence(s->router);
  if (ev == nullptr || !ev->key) return FeedbackResult::kUnknownRouter;
  try {
    Suspicion& sus = suspicions_[s->id];
    if (h.counter <= sus.last_counter) return FeedbackResult::kStale;
    const std::size_t first = first_datagram_len(pu.payload, pu.complete());
    if (first != 0) {
      if (!tag_ok(pu.payload.first(first), h, *ev)) return FeedbackResult::kBadTag;
      ++counters_.tag_verified;
    } else {
      ++counters_.tag_unchecked;
    }
    sus.last_counter = h.counter;
    return make_probe(*s, sus, now, probe);
  } catch (const std::exception&) {
    return FeedbackResult::kProbeLimited;  // out of memory, or no randomness: no probe
  }
}

// At most one outstanding probe per router, and one per probe_gap. Throws (randomness).
FeedbackResult RouterFeedback::make_probe(const Session& s, Suspicion& sus, TimePoint now,
                                          Probe& probe) {
  if (sus.nonce != 0 || (sus.probed_at != TimePoint{} && now - sus.probed_at < config_.probe_gap)) {
    return FeedbackResult::kProbeLimited;
  }
  sus.nonce = random_() | kProbeBit;
  sus.probed_at = now;
  wire::KeepaliveAckMsg ack;
  ack.result = wire::KeepaliveResult::kAlive;
  ack.gateway_id = config_.gateway_id;
  ack.session_id = s.id;
  ack.counter = sus.nonce;
  const std::size_t n = wire::write_keepalive_ack(probe.bytes, ack);
  const auto mac =
      crypto::session_mac(s.key, std::span(probe.bytes).first(wire::kKeepaliveAckMacOffset));
  std::copy(mac.begin(), mac.end(), probe.bytes.begin() + wire::kKeepaliveAckMacOffset);
  probe.to = s.router.address;
  return n == wire::kKeepaliveAckLen ? FeedbackResult::kProbe : FeedbackResult::kMalformed;
}

FeedbackResult RouterFeedback::on_silent(std::uint64_t session_id, TimePoint now,
                                         Probe& probe) noexcept {
  const Session* s = registry_.session(session_id);
  if (s == nullptr) return FeedbackResult::kUnknownRouter;
  try {
    const FeedbackResult r = make_probe(*s, suspicions_[session_id], now, probe);
    if (r == FeedbackResult::kProbe) ++counters_.silence_probes;
    return r;
  } catch (const std::exception&) {
    return FeedbackResult::kProbeLimited;
  }
}

bool RouterFeedback::tag_ok(std::span<const std::byte> quoted, const wire::TunnelHeader& h,
                            const RegistrationEvidence& ev) noexcept {
  if (quoted.size() > scratch_.size()) return false;
  const auto copy = std::span(scratch_).first(quoted.size());
  std::copy(quoted.begin(), quoted.end(), copy.begin());
  return wire::open_tunnel(copy, h, *ev.key);
}

FeedbackResult RouterFeedback::on_probe_quote(const PortUnreachable& pu, TimePoint now) noexcept {
  wire::KeepaliveAckMsg ack;
  if (!pu.complete() || wire::parse_keepalive_ack(pu.payload, ack) != wire::ParseStatus::kOk) {
    return FeedbackResult::kUnknownProbe;
  }
  auto it = suspicions_.find(ack.session_id);
  if (it == suspicions_.end() || it->second.nonce == 0 ||
      !crypto::equal_u64_constant_time(it->second.nonce, ack.counter) ||
      now - it->second.probed_at > config_.probe_timeout) {
    return FeedbackResult::kUnknownProbe;
  }
  const Session* s = registry_.session(ack.session_id);
  if (s == nullptr || s->router.address.addr != pu.quoted_dst ||
      s->router.address.port != pu.quoted_dport) {
    return FeedbackResult::kUnknownProbe;
  }
  if (pu.reporter != s->router.address.addr) return FeedbackResult::kWrongReporter;
  suspicions_.erase(it);
  registry_.on_confirmed_dead(ack.session_id, now);
  return FeedbackResult::kConfirmed;
}

void RouterFeedback::expire(TimePoint now) noexcept {
  for (auto it = suspicions_.begin(); it != suspicions_.end();) {
    Suspicion& s = it->second;
    if (s.nonce != 0 && now - s.probed_at > config_.probe_timeout) {
      s.nonce = 0;  // the router's host did not refuse the probe: it lives, as far as we know
      ++counters_.probes_expired;
    }
    if (registry_.session(it->first) == nullptr) {
      it = suspicions_.erase(it);
    } else {
      ++it;
    }
  }
}

}  // namespace dmux::registry
