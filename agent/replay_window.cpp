#include "agent/replay_window.h"

#include <algorithm>

namespace dmux::agent {

bool ReplayWindow::may_accept(std::uint64_t counter) const noexcept {
  if (!any_ || counter > highest_) return true;
  if (highest_ - counter >= kWindow) return false;
  return (bitmap_[block_of(counter)] & bit_of(counter)) == 0;
}

bool ReplayWindow::accept(std::uint64_t counter) noexcept {
  if (!may_accept(counter)) return false;
  if (!any_) {
    highest_ = counter;  // the bitmap is still all zero
    any_ = true;
  } else if (counter > highest_) {
    // Clear the blocks the window slides over (all of them after a jump of a whole window).
    const std::uint64_t from = highest_ / kBlockBits;
    const std::uint64_t steps = std::min<std::uint64_t>(counter / kBlockBits - from, kBlocks);
    for (std::uint64_t i = 1; i <= steps; ++i) bitmap_[(from + i) % kBlocks] = 0;
    highest_ = counter;
  }
  bitmap_[block_of(counter)] |= bit_of(counter);
  return true;
}

}  // namespace dmux::agent
