// Notifications of the host's routing changes: an rtnetlink socket (libmnl) subscribed to IPv6
// routes, IPv6 addresses and links. The daemon does not parse what changed (the kernel is the
// only sender, but the messages are not needed): each wake-up means "look again", and ClientApp
// re-reads whether the host has native IPv6 (has_native_ipv6). Lost notifications (ENOBUFS) also
// mean "look again". Control plane, the event loop's thread; the constructor throws
// std::system_error, drain() never throws.
#pragma once

#include <memory>

struct mnl_socket;

namespace dmux::client {

class RouteWatch {
 public:
  RouteWatch();
  ~RouteWatch();
  RouteWatch(const RouteWatch&) = delete;
  RouteWatch& operator=(const RouteWatch&) = delete;

  [[nodiscard]] int fd() const noexcept;
  // Reads every pending notification; true if there was any (or some were lost).
  bool drain() noexcept;

 private:
  struct Closer {
    void operator()(mnl_socket* s) const noexcept;
  };
  std::unique_ptr<mnl_socket, Closer> socket_;
};

}  // namespace dmux::client
