// The operator group of a control socket (as frrvty is vtysh's): members of the group may run
// dmuxctl against a daemon without being root or the daemon's user. Used at start-up only.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace dmux::control {

// The id of group `name`, or nullopt if no such group exists (config validation).
std::optional<gid_t> find_group(const std::string& name);

// Hands the socket file at `path` to group `group` (mode 0660; ControlServer calls it for
// ControlOptions::group), so its members can connect. The daemon's user must be a member of the
// group (systemd: SupplementaryGroups=). Throws std::system_error naming the path and group.
void give_socket_to_group(const std::string& path, const std::string& group);

}  // namespace dmux::control
