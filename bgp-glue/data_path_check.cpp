#include "bgp-glue/data_path_check.h"

namespace dmux::bgp_glue {

std::uint64_t DataPathCheck::on_send(TimePoint now) noexcept {
  if (outstanding_) (void)judge(false);  // the caller skipped on_timer: the old probe is missed
  ++seq_;
  outstanding_ = true;
  sent_at_ = now;
  next_ = now + config_.interval;
  return seq_;
}

DataPathCheck::Change DataPathCheck::on_reply(std::uint64_t seq, TimePoint now) noexcept {
  if (!outstanding_ || seq != seq_ || now - sent_at_ > config_.timeout) return Change::kNone;
  outstanding_ = false;
  return judge(true);
}

DataPathCheck::Change DataPathCheck::on_timer(TimePoint now) noexcept {
  if (!outstanding_ || now - sent_at_ <= config_.timeout) return Change::kNone;
  outstanding_ = false;
  return judge(false);
}

DataPathCheck::Change DataPathCheck::judge(bool answered) noexcept {
  if (answered) {
    ++answered_;
    bad_run_ = 0;
    if (verdict_ != Verdict::kAlive && ++good_run_ >= config_.rise) {
      verdict_ = Verdict::kAlive;
      return Change::kBecameAlive;
    }
    return Change::kNone;
  }
  ++missed_;
  good_run_ = 0;
  if (verdict_ != Verdict::kDead && ++bad_run_ >= config_.fall) {
    // Only a gateway seen forwarding can be declared dead: one that is still starting is not.
    const bool was_alive = verdict_ == Verdict::kAlive;
    verdict_ = Verdict::kDead;
    return was_alive ? Change::kBecameDead : Change::kNone;
  }
  return Change::kNone;
}

}  // namespace dmux::bgp_glue
