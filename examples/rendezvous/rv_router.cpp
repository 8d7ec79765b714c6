#include "rv_router.h"

#include <algorithm>
#include <cstdio>

namespace rendezvous {

using ipdmux::sdk::Client;
using std::chrono::milliseconds;

RendezvousRouter::RendezvousRouter(const TriggerLimits& limits, Output& out)
    : table_(limits), out_(out), update_(4 + kMaxEntries * kEntryLen) {}

void RendezvousRouter::on_client(const ipdmux::sdk::Packet& p, MonoTime now) {
  Message m;
  if (parse_message(p.payload, m) != Parse::kOk) {
    ++counters_.bad_messages;
    return;
  }
  switch (m.type) {
    case Type::kInsert:
      on_insert(p, m, now);
      return;
    case Type::kRemove:
      on_remove(p, m);
      return;
    case Type::kSend:
      on_send(m, now);
      return;
    default:
      ++counters_.bad_messages;
      return;  // DELIVER and ACK go to clients only
  }
}

void RendezvousRouter::on_insert(const ipdmux::sdk::Packet& p, const Message& m, MonoTime now) {
  const milliseconds lifetime = table_.cap(std::chrono::seconds(m.lifetime_s));
  const Receiver r{.ipv4 = p.client.ipv4, .port = p.client.port, .token = p.token, .local = true};
  const InsertResult result = table_.insert(m.id, r, lifetime, now);
  if (result == InsertResult::kRefused) {
    ++counters_.refused;
    ack(p.client, m.id, AckStatus::kRefused, 0);
    return;
  }
  ++(result == InsertResult::kInserted ? counters_.inserted : counters_.refreshed);
  const auto granted_s = static_cast<std::uint16_t>(lifetime.count() / 1000);
  ack(p.client, m.id, AckStatus::kInserted, granted_s);
  tell_peers(TriggerEntry{.id = m.id,
                          .client_ipv4 = r.ipv4,
                          .client_port = r.port,
                          .token = r.token,
                          .remaining_ms = static_cast<std::uint32_t>(lifetime.count())});
}

void RendezvousRouter::on_remove(const ipdmux::sdk::Packet& p, const Message& m) {
  if (table_.remove(m.id, p.client.ipv4, p.client.port)) ++counters_.removed;
  ack(p.client, m.id, AckStatus::kRemoved, 0);
  tell_peers(TriggerEntry{.id = m.id,
                          .client_ipv4 = p.client.ipv4,
                          .client_port = p.client.port,
                          .token = p.token,
                          .remaining_ms = 0});
}

void RendezvousRouter::on_send(const Message& m, MonoTime now) noexcept {
  ++counters_.sends;
  const std::size_t n =
      write_message(message_, Message{.type = Type::kDeliver, .id = m.id, .data = m.data});
  std::size_t delivered = 0;
  for (const Receiver& r : table_.lookup(m.id)) {
    if (r.expires <= now || n == 0) continue;
    if (out_.to_client(Client{r.ipv4, r.port}, std::span(message_).first(n))) ++delivered;
  }
  if (delivered == 0) ++counters_.no_trigger;
  counters_.delivered += delivered;
}

void RendezvousRouter::ack(const Client& to, const Id& id, AckStatus status,
                           std::uint16_t lifetime_s) noexcept {
  const std::size_t n = write_message(
      message_, Message{.type = Type::kAck, .id = id, .lifetime_s = lifetime_s, .status = status});
  if (n != 0) out_.to_client(to, std::span(message_).first(n));
}

void RendezvousRouter::tell_peers(const TriggerEntry& e) noexcept {
  const std::size_t h = write_triggers_header(update_, 1);
  const std::size_t n = write_trigger_entry(std::span(update_).subspan(h), e);
  if (h == 0 || n == 0) return;
  out_.to_peers(std::span(update_).first(h + n));
  ++counters_.peer_updates_sent;
}

void RendezvousRouter::on_peer(const ipdmux::sdk::PeerMessage& msg, MonoTime now) {
  TriggersReader reader;
  if (reader.init(msg.payload) != Parse::kOk) {
    ++counters_.peer_bad;
    return;
  }
  TriggerEntry e;
  while (reader.next(e)) {
    const Client c{e.client_ipv4, e.client_port};
    if (c.ipv4 == 0 || c.port == 0 || ((out_.rt(c) ^ e.token) != 0)) {
      ++counters_.peer_unproven;
      continue;
    }
    ++counters_.peer_entries;
    if (e.remaining_ms == 0) {
      table_.remove(e.id, c.ipv4, c.port);
      continue;
    }
    const Receiver r{.ipv4 = c.ipv4, .port = c.port, .token = e.token, .local = false};
    if (table_.insert(e.id, r, milliseconds(e.remaining_ms), now) == InsertResult::kRefused) {
      ++counters_.refused;
    }
  }
}

// Every trigger inserted here, in updates of at most kMaxEntries, to a peer that just came up.
void RendezvousRouter::on_peer_up(const Client& peer, MonoTime now) {
  std::vector<TriggerEntry> mine;
  table_.for_each([&](const Id& id, const Receiver& r) {
    if (!r.local || r.expires <= now) return;
    const auto left = std::chrono::duration_cast<milliseconds>(r.expires - now).count();
    mine.push_back(
        TriggerEntry{.id = id,
                     .client_ipv4 = r.ipv4,
                     .client_port = r.port,
                     .token = r.token,
                     .remaining_ms = static_cast<std::uint32_t>(std::max<long long>(left, 1))});
  });
  for (std::size_t first = 0; first < mine.size(); first += kMaxEntries) {
    const std::size_t count = std::min(kMaxEntries, mine.size() - first);
    std::size_t len = write_triggers_header(update_, static_cast<std::uint16_t>(count));
    for (std::size_t i = 0; i < count; ++i) {
      len += write_trigger_entry(std::span(update_).subspan(len), mine[first + i]);
    }
    out_.to_peer(peer, std::span(update_).first(len));
    ++counters_.peer_updates_sent;
  }
}

void RendezvousRouter::expire(MonoTime now) { counters_.expired += table_.expire(now); }

std::string RendezvousRouter::status_json() const {
  const RvCounters& c = counters_;
  char buf[640];
  std::snprintf(
      buf, sizeof buf,
      R"({"triggers":%zu,"trigger_ids":%zu,"inserted":%llu,"refreshed":%llu,)"
      R"("refused":%llu,"removed":%llu,"sends":%llu,"delivered":%llu,)"
      R"("no_trigger":%llu,"expired":%llu,"bad_messages":%llu,"peer_entries":%llu,)"
      R"("peer_bad":%llu,"peer_unproven":%llu,"peer_updates_sent":%llu})",
      table_.size(), table_.ids(), static_cast<unsigned long long>(c.inserted),
      static_cast<unsigned long long>(c.refreshed), static_cast<unsigned long long>(c.refused),
      static_cast<unsigned long long>(c.removed), static_cast<unsigned long long>(c.sends),
      static_cast<unsigned long long>(c.delivered), static_cast<unsigned long long>(c.no_trigger),
      static_cast<unsigned long long>(c.expired), static_cast<unsigned long long>(c.bad_messages),
      static_cast<unsigned long long>(c.peer_entries), static_cast<unsigned long long>(c.peer_bad),
      static_cast<unsigned long long>(c.peer_unproven),
      static_cast<unsigned long long>(c.peer_updates_sent));
  return buf;
}

}  // namespace rendezvous
