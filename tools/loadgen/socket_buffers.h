// Large socket buffers for the benchmark's own endpoints. Start-up code.
#pragma once

namespace dmux::loadgen {

// Asks for `bytes` of receive buffer: SO_RCVBUFFORCE (root, ignores net.core.rmem_max), falling
// back to SO_RCVBUF. Returns what the kernel granted (it doubles the request for bookkeeping).
int grow_receive_buffer(int fd, int bytes) noexcept;

}  // namespace dmux::loadgen
