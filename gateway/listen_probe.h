// A guard against a second dmuxd on the same data port. The workers bind their listen endpoints
// with SO_REUSEPORT, which the kernel lets another process of the same user share: a second dmuxd
// would start and silently take a share of the traffic. Binding each endpoint once without
// SO_REUSEPORT first fails exactly when anyone holds it already. Start-up code.
#pragma once

#include <vector>

#include "common/net/endpoint.h"

namespace dmux::gateway {

// Throws std::runtime_error naming the first endpoint another socket holds ("... is in use,
// another dmuxd?"), or the bind error. Binds and releases each endpoint; call before the workers.
void refuse_taken_listen_endpoints(const std::vector<net::Endpoint>& listen);

}  // namespace dmux::gateway
