#include "client/address_mirror.h"

#include <algorithm>

#include "common/util/log.h"

namespace dmux::client {
namespace {

// The first holder of `address` among `list` other than `skip`, or nullptr.
const InterfaceAddress* holder(const std::vector<InterfaceAddress>& list, std::uint32_t address,
                               const std::string& skip) noexcept {
  const auto it = std::find_if(list.begin(), list.end(), [&](const InterfaceAddress& a) {
    return a.address == address && a.dev != skip;
  });
  return it == list.end() ? nullptr : &*it;
}

}  // namespace

bool AddressMirror::is_shadowed(std::uint32_t address) const noexcept {
  return std::find(shadowed_.begin(), shadowed_.end(), address) != shadowed_.end();
}

int AddressMirror::update(const std::vector<InterfaceAddress>& host) noexcept {
  // Gone, or moved to another interface: remove (a moved one is added again below).
  for (auto it = mirrored_.begin(); it != mirrored_.end();) {
    const InterfaceAddress* now = holder(host, it->address, tun_);
    const bool shadowed = is_shadowed(it->address);
    if (now != nullptr && now->dev == it->dev && (shadowed || ops_.found_first(it->address))) {
      ++it;
      continue;
    }
    if (now != nullptr) LOG_INFO("mirroring %s's IPv4 address again", now->dev.c_str());
    ops_.remove(it->address);
    if (shadowed) shadowed_.erase(std::find(shadowed_.begin(), shadowed_.end(), it->address));
    it = mirrored_.erase(it);
  }
  int failed = 0;
  for (const InterfaceAddress& a : host) {
    if (a.dev == tun_ || holder(mirrored_, a.address, tun_) != nullptr) continue;
    try {
      mirrored_.reserve(mirrored_.size() + 1);
      shadowed_.reserve(shadowed_.size() + 1);
      ops_.add(a.address);
      mirrored_.push_back(a);
      if (ops_.found_first(a.address)) continue;
      shadowed_.push_back(a.address);  // not looked at again until it moves or goes
      LOG_WARN(
          "the kernel does not find the mirror of %s's IPv4 address on %s first: multicast "
          "sent from that address is not captured",
          a.dev.c_str(), tun_.c_str());
    } catch (const std::exception& e) {
      ++failed;
      LOG_WARN(
          "cannot mirror %s's IPv4 address onto %s (multicast sent from it is not captured): %s",
          a.dev.c_str(), tun_.c_str(), e.what());
    }
  }
  return failed;
}

}  // namespace dmux::client
