// Capture's reader thread for JS consumers: ring blocks into the chunks JS lent.
#include "capture.h"

#include <pthread.h>

#include <cerrno>
#include <stdexcept>

namespace netkit {

// Waits for the socket: true when a block may be ready (or a wake-up came), false when the
// wait failed (threadErrno_ set) or the socket failed with no block left (failed_ set).
bool Capture::WaitReady(EdgeWait& edge, uint32_t index) {
  if (!edge.wait()) {
    threadErrno_ = edge.failure();
    return false;
  }
  // An error with no block left to hand over: the interface went down or away (SO_ERROR says).
  // An edge is reported once, so the error is remembered until the ring is empty.
  if (edge.error() && !ring_.readyAt(index)) {
    failed_ = true;
    return false;
  }
  return true;
}

// The capture thread: moves ready ring blocks into free chunks until told to stop, told to
// finish (and the ring holds no ready block), or the socket fails.
void Capture::Run() {
  pthread_setname_np(pthread_self(), "netkit-ring");
  EdgeWait edge(ring_.fd(), wakeFd_);
  for (;;) {
    bool finishing;
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stop_) break;
      finishing = finishing_;
    }
    if (!ring_.ready()) {
      if (finishing || !WaitReady(edge, ring_.cursor())) break;
      continue;
    }
    int k;
    {
      std::unique_lock<std::mutex> l(mu_);
      freed_.wait(l, [this] { return stop_ || !free_.empty(); });
      if (stop_) break;
      k = free_.back();
      free_.pop_back();
    }
    size_t used = 0;
    size_t n = 0;
    try {
      n = ring_.read(chunks_[k], &used);
    } catch (const std::runtime_error&) {
      threadErrno_ = EINVAL;
      break;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      counts_[k] = static_cast<uint32_t>(n);
      filled_.push_back(k);
    }
    uv_async_send(async_);
  }
  EndThread();
}

}  // namespace netkit
