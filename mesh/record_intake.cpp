#include "mesh/record_intake.h"

#include <algorithm>
#include <set>

namespace dmux::mesh {

namespace {

std::shared_ptr<const RemoteRouter> make_router(std::uint32_t origin, const wire::mesh::Router& rec,
                                                std::shared_ptr<const CertEntry> cert) {
  auto r = std::make_shared<RemoteRouter>();
  r->origin = wire::GatewayId{origin};
  r->record = rec;
  r->cert = std::move(cert);
  r->key = std::make_shared<const crypto::TunnelKey>(rec.tunnel_key);
  return r;
}

void append(RemoteChanges& out, RemoteChanges more) {
  out.insert(out.end(), std::make_move_iterator(more.begin()), std::make_move_iterator(more.end()));
}

}  // namespace

RecordIntake::Item RecordIntake::item_of(const wire::mesh::Router& r,
                                         const CertificateStore& certs) {
  return Item{r, certs.find(r.proof.cert_hash), RecordVerdict::kOk};
}

void RecordIntake::on_full_state_part(std::uint32_t origin, wire::mesh::FullState part,
                                      const CertificateStore& certs) {
  Origin& o = origins_[origin];
  const Version v{part.version.incarnation, part.version.seq};
  if (!remote_.full_state_is_new(origin, v) || v < o.newest_queued) {
    ++counters_.stale;
    return;
  }
  if (!o.collecting || o.collecting_version != v || o.parts_seen.size() != part.parts) {
    if (o.collecting) ++counters_.parts_discarded;
    o.collecting = true;
    o.collecting_version = v;
    o.parts_seen.assign(part.parts, false);
    o.parts_left = part.parts;
    o.collected.clear();
  }
  if (o.parts_seen[part.part]) return;  // a duplicate part
  o.parts_seen[part.part] = true;
  --o.parts_left;
  // The cap per origin comes before any signature work: what cannot be held is not verified.
  const std::size_t cap = remote_.config().max_per_origin;
  for (const auto& r : part.routers) {
    if (o.collected.size() >= cap) {
      ++counters_.records_refused[static_cast<std::size_t>(RecordVerdict::kCap)];
      continue;
    }
    o.collected.push_back(item_of(r, certs));
  }
  if (o.parts_left != 0) return;
  Op op;
  op.full_state = true;
  op.version = v;
  op.items = std::move(o.collected);
  queued_records_ += op.items.size();
  o.collected = {};
  o.collecting = false;
  o.newest_queued = v;
  o.queue.push_back(std::move(op));
}

void RecordIntake::on_update(std::uint32_t origin, const wire::mesh::Update& u,
                             const CertificateStore& certs) {
  Origin& o = origins_[origin];
  const Version v{u.version.incarnation, u.version.seq};
  if (!remote_.update_is_new(origin, v) || v <= o.newest_queued) {
    ++counters_.stale;
    return;
  }
  Op op;
  op.version = v;
  op.present = u.present;
  op.id = u.router.id;
  if (u.present && remote_.count(origin) >= remote_.config().max_per_origin &&
      !remote_.holds(origin, op.id)) {
    ++counters_.records_refused[static_cast<std::size_t>(RecordVerdict::kCap)];
    return;  // a new router over the origin's cap: refused before any signature work
  }
  if (u.present) op.items.push_back(item_of(u.router, certs));
  queued_records_ += op.items.size();
  o.newest_queued = v;
  o.queue.push_back(std::move(op));
}

void RecordIntake::on_link_down(std::uint32_t origin) {
  auto it = origins_.find(origin);
  if (it == origins_.end() || !it->second.collecting) return;
  it->second.collecting = false;
  it->second.collected = {};
  ++counters_.parts_discarded;
}

bool RecordIntake::pending() const noexcept {
  for (const auto& [id, o] : origins_) {
    if (!o.queue.empty()) return true;
  }
  return false;
}

bool RecordIntake::verify_some(std::uint32_t origin, Op& op,
                               const std::function<bool()>& out_of_time) {
  while (op.next < op.items.size()) {
    if (out_of_time()) return false;
    Item& item = op.items[op.next++];
    --queued_records_;
    item.verdict = check_record(item.record, origin, item.cert.get(), signatures_, revoked_);
    ++counters_.records_verified;
    if (item.verdict != RecordVerdict::kOk) {
      ++counters_.records_refused[static_cast<std::size_t>(item.verdict)];
    } else {
      op.ready.push_back(make_router(origin, item.record, item.cert));
    }
  }
  std::vector<Item>().swap(op.items);  // verified: what is kept is in op.ready
  op.next = 0;
  return true;
}

bool RecordIntake::apply(std::uint32_t origin, Op& op, RemoteChanges& out,
                         const std::function<bool()>& out_of_time) {
  if (op.full_state) {
    if (!op.began) {
      std::set<RouterId> present;
      for (const auto& r : op.ready) present.insert(r->id());
      append(out, remote_.begin_full_state(origin, op.version, present));
      op.began = true;
    }
    while (op.merged < op.ready.size()) {
      if (out_of_time()) return false;
      const std::size_t n = std::min(kMergeChunk, op.ready.size() - op.merged);
      std::size_t refused = 0;
      append(out,
             remote_.merge_full_state(origin, std::span(op.ready).subspan(op.merged, n), refused));
      counters_.records_refused[static_cast<std::size_t>(RecordVerdict::kCap)] += refused;
      op.merged += n;
    }
    ++counters_.full_states_applied;
    return true;
  }
  ++counters_.updates_applied;
  if (!op.present) {
    append(out, remote_.on_update(origin, op.version, op.id, nullptr));
    return true;
  }
  // A refused record changes nothing: the router keeps whatever verified record it had.
  if (op.ready.empty()) return true;
  const std::uint64_t before = remote_.refused_by_cap();
  append(out, remote_.on_update(origin, op.version, op.id, op.ready[0]));
  counters_.records_refused[static_cast<std::size_t>(RecordVerdict::kCap)] +=
      remote_.refused_by_cap() - before;
  return true;
}

RemoteChanges RecordIntake::run(const std::function<bool()>& out_of_time) {
  RemoteChanges out;
  bool progressed = true;
  // Round robin over origins, one message each per round, so one peer's flood does not starve
  // the others.
  while (progressed) {
    progressed = false;
    for (auto& [origin, o] : origins_) {
      if (o.queue.empty()) continue;
      Op& op = o.queue.front();
      if (!verify_some(origin, op, out_of_time)) return out;
      if (!apply(origin, op, out, out_of_time)) return out;
      o.queue.pop_front();
      progressed = true;
      if (out_of_time()) return out;
    }
  }
  return out;
}

}  // namespace dmux::mesh
