// Capture: the JS face of PacketRing (the class the addon exports). Once start() is called, a
// capture thread of its own waits on the socket (epoll), copies each ready ring block into a free
// chunk (a RecordBatch's arrays, lent by JS), hands the block back to the kernel at once, and
// queues the chunk; JS is woken through a uv_async handle, at most once per block and never once
// per packet, takes the filled chunks in order and gives each back when done with it. The ring
// keeps draining while the JS thread is busy (a garbage collection, a slow write or dissector):
// only when every chunk is full and waiting for JS does the ring fill, and then the kernel drops
// and counts. startWriter() instead has the addon write the file itself (file-writer.cc).
// Its methods live by concern: capture.cc (binding, thread plumbing), ring-reader.cc (the reader
// thread), file-writer.cc (the writer's threads).
#pragma once

#include <napi.h>
#include <sys/uio.h>
#include <uv.h>

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "edge-wait.h"
#include "packet-ring.h"
#include "writer-policy.h"

namespace netkit {

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env);
  explicit Capture(const Napi::CallbackInfo& info);
  ~Capture() override { Shutdown(); }
 private:
  // The JS surface and the thread plumbing (capture.cc).
  Napi::Value Start(const Napi::CallbackInfo& info);
  void EndThread();
  void StartThread(Napi::Env env, std::function<void()> body);
  Napi::Value Wait(const Napi::CallbackInfo& info);
  static void OnAsync(uv_async_t* handle);
  Napi::Value Take(const Napi::CallbackInfo& info);
  Napi::Value Give(const Napi::CallbackInfo& info);
  Napi::Value Finish(const Napi::CallbackInfo& info);
  Napi::Value Ended(const Napi::CallbackInfo& info);
  void Wake();
  static std::vector<sock_filter> Program(Napi::Env env, Napi::Value v, const char* what);
  Napi::Value ReplaceFilter(const Napi::CallbackInfo& info);
  Napi::Value RejectAll(const Napi::CallbackInfo& info);
  Napi::Value SocketError(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ring_.socketError()); }
  Napi::Value Stats(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);
  Napi::Value BlockRoom(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ring_.blockRoom())); }
  Napi::Value MaxPackets(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ring_.maxPacketsPerBlock())); }
  Napi::Value BlockCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ring_.blockCount()); }
  Napi::Value ChunkCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(WriterPolicy::Buffers(ring_.blockCount()))); }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ring_.fd() < 0); }
  void Shutdown();
  // The ring reader thread (ring-reader.cc).
  void Run();
  bool WaitReady(EdgeWait& edge, uint32_t index);
  // The pcap file writer: its two threads (file-writer.cc), tuned by WriterPolicy.
  Napi::Value StartWriter(const Napi::CallbackInfo& info);
  Napi::Value WriterStats(const Napi::CallbackInfo& info);
  static bool WriteAllV(int fd, iovec* iov, size_t n);
  void RunDrain();
  void RunWriter();
  // Rings of WriterPolicy::kGatherMinBlocks blocks or more gather records across blocks (a block's tail waits for the next).
  bool GathersAcrossBlocks() const { return ring_.blockCount() >= WriterPolicy::kGatherMinBlocks; }
  PacketRing ring_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable freed_;
  std::vector<BatchArrays> chunks_;
  uint32_t* counts_ = nullptr;
  std::vector<int> free_;
  std::deque<int> filled_;
  bool stop_ = false;
  bool finishing_ = false;
  bool ended_ = false;
  bool failed_ = false;
  int threadErrno_ = 0;
  int wakeFd_ = -1;
  uv_async_t* async_ = nullptr;
  // The writer thread's file, layout, limit, scratch, and what it wrote (under mu_).
  int outFd_ = -1;
  netkit::Layout layout_ = netkit::Layout::PcapMicro;
  uint64_t maxPackets_ = 0;
  struct Spill {
    std::vector<uint8_t> data;
    std::vector<uint32_t> off, cap, orig, nsec;
    std::vector<double> sec;
    BatchArrays arrays{};
  };
  // A block handed from the reader to the writer: in place (ring block `block`, its iovecs in
  // iovs_[block]) or copied (spill buffer `spill`); `end` closes the queue.
  struct Entry {
    int block = -1;
    int spill = -1;
    size_t n = 0;
    size_t bytes = 0;
    uint64_t captured = 0;
    bool end = false;
  };
  std::thread writer_;
  std::condition_variable queued_;
  std::deque<Entry> queue_;
  std::vector<Spill> spills_;
  std::vector<int> freeSpills_;
  std::vector<std::vector<iovec>> iovs_;
  size_t inPlaceQueued_ = 0;
  size_t unwritten_ = 0;  // record bytes queued or gathered and not yet written
  std::vector<char> held_;  // ring blocks the writer holds in place
  bool readerWaits_ = false;  // the reader waits for a block the writer holds
  uint64_t written_ = 0;
  uint64_t capturedBytes_ = 0;
  uint64_t committed_ = 0;
  int writeErrno_ = 0;
  Napi::ObjectReference keep_;
  Napi::ObjectReference keepCounts_;
  Napi::FunctionReference callback_;
  Napi::AsyncContext ctx_;
};

}  // namespace netkit
