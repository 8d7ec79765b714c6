#include "common/evloop/event_loop.h"

#include <doctest/doctest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

using namespace dmux::evloop;

TEST_CASE("stop() from another thread ends run()") {
  EventLoop loop;
  std::thread t([&] { loop.stop(); });
  loop.run();
  t.join();
}

TEST_CASE("stop() before run() makes run() return at once") {
  EventLoop loop;
  loop.stop();
  loop.run();
}

TEST_CASE("IoWatcher fires on a readable fd; Timer fires once") {
  int fds[2];
  REQUIRE(::socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) == 0);
  EventLoop loop;
  int reads = 0;
  IoWatcher w(loop, fds[0], [&] {
    char c;
    REQUIRE(::read(fds[0], &c, 1) == 1);
    ++reads;
    loop.stop();
  });
  int fired = 0;
  Timer timer(loop, [&] {
    ++fired;
    REQUIRE(::write(fds[1], "x", 1) == 1);
  });
  timer.start_once(std::chrono::microseconds(1000));
  loop.run();
  CHECK(fired == 1);
  CHECK(reads == 1);
  ::close(fds[0]);
  ::close(fds[1]);
}

TEST_CASE("IoWatcher reports write readiness only while asked") {
  dmux::evloop::EventLoop loop;
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  int writable = 0;
  dmux::evloop::IoWatcher w(
      loop, fds[1], [] {},
      [&] {
        if (++writable == 1) loop.stop();
      });
  w.want_write(true);
  loop.run();
  CHECK(writable >= 1);
  w.want_write(false);
  ::close(fds[0]);
  ::close(fds[1]);
}
