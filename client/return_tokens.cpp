#include "client/return_tokens.h"

#include <algorithm>
#include <bit>
#include <utility>

#include "common/crypto/data_path_mac.h"

namespace dmux::client {
namespace {

using std::chrono::milliseconds;

using crypto::equal_u64_constant_time;

}  // namespace

ReturnTokens::ReturnTokens(const ReturnTokensConfig& config,
                           std::span<const TokenProtocol> protocols, NonceSource& nonces,
                           Clock::time_point now)
    : config_(config), nonces_(nonces) {
  entries_.reserve(protocols.size());
  for (const TokenProtocol& p : protocols) {
    Entry e;
    e.protocol = p;
    e.deadline = now;
    e.refresh = config_.refresh;
    entries_.push_back(e);
  }
}

const ReturnTokens::Entry* ReturnTokens::find(std::uint16_t proto_id) const noexcept {
  for (const Entry& e : entries_) {
    if (e.protocol.proto_id == proto_id) return &e;
  }
  return nullptr;
}

ReturnTokens::Entry* ReturnTokens::find(std::uint16_t proto_id) noexcept {
  return const_cast<Entry*>(std::as_const(*this).find(proto_id));
}

Clock::time_point ReturnTokens::next_deadline() const noexcept {
  Clock::time_point t = Clock::time_point::max();
  for (const Entry& e : entries_) t = std::min(t, e.deadline);
  return t;
}

TokenRequest ReturnTokens::make_request(Entry& e, std::uint64_t nonce,
                                        Clock::time_point now) noexcept {
  // The oldest slot makes room: only the last kNonces requests can be answered.
  Nonce& slot = *std::min_element(e.nonces.begin(), e.nonces.end(),
                                  [](const Nonce& a, const Nonce& b) { return a.seq < b.seq; });
  slot = Nonce{nonce, ++e.sent};
  ++e.unanswered;
  ++counters_.requests;
  // 1 s, 2 s, 4 s ... while unanswered, never beyond the refresh interval.
  const auto shift = std::min<std::uint32_t>(e.unanswered - 1, 16);
  e.deadline = now + std::min<milliseconds>(config_.retry * (1u << shift), e.refresh);
  return TokenRequest{.proto_id = e.protocol.proto_id,
                      .provider_id = e.protocol.provider_id,
                      .nonce = nonce,
                      .unanswered = e.unanswered,
                      .have_token = e.have_current};
}

std::size_t ReturnTokens::on_timer(Clock::time_point now, std::span<TokenRequest> out) noexcept {
  std::size_t n = 0;
  for (Entry& e : entries_) {
    if (now < e.deadline || n == out.size()) continue;
    const std::uint64_t nonce = nonces_.next_nonce();
    if (nonce == 0) {  // none to be had now: try again at the first retry
      e.deadline = now + config_.retry;
      continue;
    }
    out[n++] = make_request(e, nonce, now);
  }
  return n;
}

void ReturnTokens::request_all(Clock::time_point now) noexcept {
  for (Entry& e : entries_) e.deadline = std::min(e.deadline, now);
}

std::optional<std::uint64_t> ReturnTokens::current(std::uint16_t proto_id) const noexcept {
  const Entry* e = find(proto_id);
  if (e == nullptr || !e->have_current) return std::nullopt;
  return e->current;
}

bool ReturnTokens::accepts(std::uint16_t proto_id, std::uint64_t token) const noexcept {
  const Entry* e = find(proto_id);
  if (e == nullptr) return false;
  // Both compared every time, no early exit: timing says nothing about either token.
  const bool current = equal_u64_constant_time(token, e->current);
  const bool previous = equal_u64_constant_time(token, e->previous);
  return static_cast<bool>((current & e->have_current) | (previous & e->have_previous));
}

int ReturnTokens::matching_slot(const Entry& e, std::uint64_t nonce) noexcept {
  unsigned match = 0;
  for (std::size_t i = 0; i < kNonces; ++i) {
    const bool used = e.nonces[i].value != 0;
    match |= static_cast<unsigned>(used & equal_u64_constant_time(nonce, e.nonces[i].value)) << i;
  }
  if (match == 0) return -1;
  return std::countr_zero(match);
}

bool ReturnTokens::outstanding(std::uint16_t proto_id, std::uint64_t nonce) const noexcept {
  const Entry* e = find(proto_id);
  return e != nullptr && matching_slot(*e, nonce) >= 0;
}

bool ReturnTokens::on_offer(std::uint16_t proto_id, std::uint64_t nonce,
                            const wire::TokenOffer& offer, Clock::time_point now,
                            TokenUpdate& update) noexcept {
  Entry* e = find(proto_id);
  if (e == nullptr) return false;
  const int slot = matching_slot(*e, nonce);
  if (slot < 0) return false;
  // This answer makes every older request moot: a late answer to one of them is not accepted
  // (it would carry an older view of the binding).
  const std::uint64_t answered = e->nonces[static_cast<std::size_t>(slot)].seq;
  for (Nonce& n : e->nonces) {
    if (n.seq <= answered) n = Nonce{};
  }
  update = TokenUpdate{};
  update.token_changed = !e->have_current || e->current != offer.return_token;
  if (update.token_changed) {
    e->previous = e->current;
    e->have_previous = e->have_current;
    e->current = offer.return_token;
    e->have_current = true;
  } else {
    e->have_previous = false;  // the refresh confirmed the current token; the old one is done
  }
  update.binding = Binding{offer.client_ipv4, offer.client_port};
  update.binding_moved = binding_.has_value() && *binding_ != update.binding;
  binding_ = update.binding;
  e->refresh = std::clamp<milliseconds>(std::chrono::seconds(offer.refresh_s), config_.retry,
                                        config_.max_refresh);
  e->deadline = now + e->refresh;
  e->unanswered = 0;
  update.refresh = e->refresh;
  ++counters_.offers;
  if (update.binding_moved) {
    ++counters_.binding_changes;
    for (Entry& other : entries_) {
      if (&other != e) other.deadline = std::min(other.deadline, now);
    }
  }
  return true;
}

TokenState ReturnTokens::state(std::size_t i) const noexcept {
  const Entry& e = entries_[i];
  return TokenState{.protocol = e.protocol,
                    .have_token = e.have_current,
                    .unanswered = e.unanswered,
                    .refresh = e.refresh};
}

}  // namespace dmux::client
