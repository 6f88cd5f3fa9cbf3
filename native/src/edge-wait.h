#pragma once

#include <sys/epoll.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

namespace netkit {

// An edge-triggered epoll on a packet socket and an eventfd: wait() returns when the kernel has
// handed over a ring block (or reported an error) since the last wait, or the eventfd was
// written (it is drained); error() stays true once the socket reported one. Edge-triggered,
// because poll() and level-triggered epoll call the socket readable while the block before the
// kernel's is user-owned, which it is whenever the writer holds a block in place, so they would
// not wait. The kernel wakes the socket's waiters each time it hands a block over (TPACKET_V3
// wakes per block, not per packet), and an edge-triggered epoll reports just that; a hand-over
// between a look at the ring and epoll_wait() is kept on the ready list, so none is missed.
class EdgeWait {
 public:
  EdgeWait(int sock, int wake) : sock_(sock), wake_(wake), ep_(::epoll_create1(EPOLL_CLOEXEC)) {
    if (ep_ < 0) { errno_ = errno; return; }
    epoll_event a{};
    a.events = EPOLLIN | EPOLLET;
    a.data.fd = sock;
    epoll_event b{};
    b.events = EPOLLIN;
    b.data.fd = wake;
    if (::epoll_ctl(ep_, EPOLL_CTL_ADD, sock, &a) < 0 || ::epoll_ctl(ep_, EPOLL_CTL_ADD, wake, &b) < 0) {
      errno_ = errno;
      ::close(ep_);
      ep_ = -1;
    }
  }
  ~EdgeWait() { if (ep_ >= 0) ::close(ep_); }
  EdgeWait(const EdgeWait&) = delete;
  EdgeWait& operator=(const EdgeWait&) = delete;
  bool error() const { return error_; }
  // The errno of a failed set-up or wait.
  int failure() const { return errno_; }
  // False when the set-up or epoll_wait failed (other than by a signal).
  bool wait() {
    if (ep_ < 0) return false;
    epoll_event ev[2];
    const int n = ::epoll_wait(ep_, ev, 2, -1);
    if (n < 0) {
      if (errno == EINTR) return true;
      errno_ = errno;
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (ev[i].data.fd == wake_) {
        uint64_t v;
        (void)!::read(wake_, &v, sizeof v);
      } else if (ev[i].data.fd == sock_ && (ev[i].events & (EPOLLERR | EPOLLHUP))) {
        error_ = true;
      }
    }
    return true;
  }

 private:
  int sock_, wake_, ep_;
  int errno_ = 0;
  bool error_ = false;
};


}  // namespace netkit
