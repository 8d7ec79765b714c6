#include "common/control/socket_group.h"

#include <grp.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <vector>

namespace dmux::control {

std::optional<gid_t> find_group(const std::string& name) {
  group g{};
  group* found = nullptr;
  std::vector<char> buffer(16384);
  if (::getgrnam_r(name.c_str(), &g, buffer.data(), buffer.size(), &found) != 0 || !found) {
    return std::nullopt;
  }
  return found->gr_gid;
}

void give_socket_to_group(const std::string& path, const std::string& group) {
  const auto gid = find_group(group);
  if (!gid) throw std::system_error(ENOENT, std::generic_category(), "control group " + group);
  if (::chown(path.c_str(), static_cast<uid_t>(-1), *gid) != 0) {
    throw std::system_error(errno, std::generic_category(),
                            "control socket " + path + ": chown to group " + group);
  }
}

}  // namespace dmux::control
