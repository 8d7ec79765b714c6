#include "mesh/local_records.h"

#include <algorithm>
#include <cstring>

namespace dmux::mesh {
namespace mw = wire::mesh;
namespace {

bool same_announcement(const mw::Router& a, const mw::Router& b) {
  std::vector<std::byte> x, y;
  mw::encode_update(mw::Update{{}, {}, true, a}, x);
  mw::encode_update(mw::Update{{}, {}, true, b}, y);
  return x == y;
}

}  // namespace

std::vector<LocalChange> LocalRecords::upsert(const LocalRouter& router) {
  const RouterId id = router.id();
  auto it = routers_.find(id);
  if (it != routers_.end() && same_announcement(it->second.record, router.record)) return {};
  ++version_.seq;
  routers_[id] = router;
  return {LocalChange{version_, true, router}};
}

std::vector<LocalChange> LocalRecords::remove(const RouterId& id) {
  auto it = routers_.find(id);
  if (it == routers_.end()) return {};
  ++version_.seq;
  LocalChange c{version_, false, it->second};
  routers_.erase(it);
  return {c};
}

std::vector<LocalChange> LocalRecords::set(const std::vector<LocalRouter>& routers) {
  std::map<RouterId, const LocalRouter*> fresh;
  for (const auto& r : routers) fresh[r.id()] = &r;
  std::vector<LocalChange> out;
  std::vector<RouterId> gone;
  for (const auto& [id, r] : routers_) {
    if (!fresh.contains(id)) gone.push_back(id);
  }
  for (const auto& id : gone) {
    auto c = remove(id);
    out.insert(out.end(), c.begin(), c.end());
  }
  for (const auto& [id, r] : fresh) {
    auto c = upsert(*r);
    out.insert(out.end(), c.begin(), c.end());
  }
  return out;
}

void LocalRecords::append_certificate(const LocalRouter& r, SentCertificates& sent,
                                      std::vector<std::byte>& out) {
  if (!r.certificate || sent.contains(r.record.proof.cert_hash)) return;
  mw::encode_der(mw::Type::kCertificate, *r.certificate, out);
  sent.insert(r.record.proof.cert_hash);
}

void LocalRecords::append_full_state(SentCertificates& sent, std::vector<std::byte>& out) const {
  for (const auto& [id, r] : routers_) append_certificate(r, sent, out);
  const std::size_t per_part = mw::kMaxRoutersPerPart;
  const std::size_t parts = std::max<std::size_t>(1, (routers_.size() + per_part - 1) / per_part);
  auto it = routers_.begin();
  for (std::size_t part = 0; part < parts; ++part) {
    mw::FullState fs{gateway_id_,
                     {version_.incarnation, version_.seq},
                     static_cast<std::uint16_t>(part),
                     static_cast<std::uint16_t>(parts),
                     {}};
    for (std::size_t i = 0; i < per_part && it != routers_.end(); ++i, ++it) {
      fs.routers.push_back(it->second.record);
    }
    mw::encode_full_state(fs, out);
  }
}

void LocalRecords::append_changes(std::span<const LocalChange> changes, SentCertificates& sent,
                                  std::vector<std::byte>& out) const {
  for (const auto& c : changes) {
    if (c.present) append_certificate(c.router, sent, out);
    mw::encode_update(
        mw::Update{gateway_id_, {c.version.incarnation, c.version.seq}, c.present, c.router.record},
        out);
  }
}

}  // namespace dmux::mesh
