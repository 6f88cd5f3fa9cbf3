// The JS face of PacketRing: a `Capture` class. Once start() is called, a capture thread of its
// own waits on the socket (epoll), copies each ready ring block into a free chunk (a RecordBatch's
// arrays, lent by JS), hands the block back to the kernel at once, and queues the chunk; JS is
// woken through a uv_async handle, at most once per block and never once per packet, takes the
// filled chunks in order and gives each back when done with it. The ring keeps draining while
// the JS thread is busy (a garbage collection, a slow write or dissector): only when every chunk
// is full and waiting for JS does the ring fill, and then the kernel drops and counts.
#include <napi.h>
#include <limits.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/eventfd.h>
#include <sys/uio.h>
#include <unistd.h>
#include <uv.h>

#include <chrono>
#include <condition_variable>
#include <cerrno>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include "packet-ring.h"

namespace {

using netkit::BatchArrays;
using netkit::Direction;
using netkit::PacketRing;
using netkit::RingOptions;

const char* kUsage =
    "new Capture({ ifindex: number, snaplen?: number, promisc?: boolean, bufferBytes?: number, "
    "blockTimeoutMs?: number, direction?: 0|1|2, cooked?: boolean, filter?: Buffer, loopbackIfindex?: number, fanout?: number })";

uint32_t optU32(const Napi::Object& o, const char* key, uint32_t def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsNumber()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a number; usage: " + kUsage);
  return v.As<Napi::Number>().Uint32Value();
}

bool optBool(const Napi::Object& o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return def;
  if (!v.IsBoolean()) throw Napi::TypeError::New(o.Env(), std::string(key) + " must be a boolean; usage: " + kUsage);
  return v.As<Napi::Boolean>().Value();
}

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

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture", {
      InstanceMethod<&Capture::Start>("start"),
      InstanceMethod<&Capture::StartWriter>("startWriter"),
      InstanceMethod<&Capture::WriterStats>("writerStats"),
      InstanceMethod<&Capture::Take>("take"),
      InstanceMethod<&Capture::Give>("give"),
      InstanceMethod<&Capture::Finish>("finish"),
      InstanceMethod<&Capture::Wait>("wait"),
      InstanceMethod<&Capture::SetFilter>("setFilter"),
      InstanceMethod<&Capture::Stats>("stats"),
      InstanceMethod<&Capture::SocketError>("socketError"),
      InstanceMethod<&Capture::RejectAll>("rejectAll"),
      InstanceMethod<&Capture::ReplaceFilter>("replaceFilter"),
      InstanceMethod<&Capture::Close>("close"),
      InstanceAccessor<&Capture::BlockRoom>("blockRoom"),
      InstanceAccessor<&Capture::MaxPackets>("maxPacketsPerBlock"),
      InstanceAccessor<&Capture::BlockCount>("blockCount"),
      InstanceAccessor<&Capture::Closed>("closed"),
      InstanceAccessor<&Capture::Ended>("ended"),
    });
  }

  explicit Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info), ctx_(info.Env(), "netkit:capture") {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, std::string("usage: ") + kUsage);
    Napi::Object o = info[0].As<Napi::Object>();
    RingOptions ro;
    Napi::Value ifx = o.Get("ifindex");
    if (!ifx.IsNumber()) throw Napi::TypeError::New(env, std::string("ifindex must be a number; usage: ") + kUsage);
    ro.ifindex = ifx.As<Napi::Number>().Int32Value();
    ro.snaplen = optU32(o, "snaplen", 262144);
    ro.promisc = optBool(o, "promisc", true);
    ro.bufferBytes = optU32(o, "bufferBytes", 4u << 20);
    ro.blockTimeoutMs = optU32(o, "blockTimeoutMs", 50);
    ro.cooked = optBool(o, "cooked", false);
    ro.fanout = optU32(o, "fanout", 0);
    Napi::Value lo = o.Get("loopbackIfindex");
    if (lo.IsNumber()) ro.loopbackIfindex = lo.As<Napi::Number>().Int32Value();
    uint32_t dir = optU32(o, "direction", 0);
    if (dir > 2) throw Napi::TypeError::New(env, std::string("direction must be 0 (inout), 1 (in) or 2 (out); usage: ") + kUsage);
    ro.direction = static_cast<Direction>(dir);
    Napi::Value f = o.Get("filter");
    if (!f.IsUndefined()) ro.filter = Program(env, f, "filter");
    try {
      ring_.open(ro);
    } catch (const std::runtime_error& e) {
      Napi::Error err = Napi::Error::New(env, e.what());
      err.Set("errno", Napi::Number::New(env, ring_.lastErrno));
      throw err;
    }
  }

  ~Capture() override { Shutdown(); }

 private:
  // start(chunks, counts, layout): chunks is an array of [data: Buffer, offset:
  // Uint32Array, capLen: Uint32Array, origLen: Uint32Array, tsSec: Float64Array, tsNsec:
  // Uint32Array], each with room for one ring block (blockRoom bytes, maxPacketsPerBlock
  // packets); counts[k] receives chunk k's packet count. Every chunk starts out free.
  Napi::Value Start(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const char* usage = "usage: start(chunks: Array<[Buffer, Uint32Array, Uint32Array, Uint32Array, Float64Array, Uint32Array]>, counts: Uint32Array, layout: 0..4)";
    if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsTypedArray() || !info[2].IsNumber()) throw Napi::TypeError::New(env, usage);
    if (thread_.joinable() || ended_) throw Napi::Error::New(env, "start: the capture thread was started already");
    if (ring_.fd() < 0) throw Napi::Error::New(env, "start: the capture is closed");
    uint32_t layout = info[2].As<Napi::Number>().Uint32Value();
    if (layout > 4) throw Napi::TypeError::New(env, "start: layout must be 0 (plain), 1 (pcap, µs), 2 (pcap, ns), 3 (pcapng, µs) or 4 (pcapng, ns)");
    auto countsT = info[1].As<Napi::TypedArray>();
    if (countsT.TypedArrayType() != napi_uint32_array) throw Napi::TypeError::New(env, "start: counts must be a Uint32Array");
    auto counts = countsT.As<Napi::Uint32Array>();
    auto list = info[0].As<Napi::Array>();
    if (list.Length() == 0 || counts.ElementLength() < list.Length()) throw Napi::TypeError::New(env, "start: at least one chunk, and a count slot for each");
    std::vector<BatchArrays> chunks;
    for (uint32_t k = 0; k < list.Length(); k++) {
      Napi::Value v = list.Get(k);
      if (!v.IsArray()) throw Napi::TypeError::New(env, usage);
      auto c = v.As<Napi::Array>();
      if (c.Length() < 6 || !c.Get(0u).IsBuffer()) throw Napi::TypeError::New(env, usage);
      auto typed = [&](uint32_t i, napi_typedarray_type type) {
        Napi::Value t = c.Get(i);
        if (!t.IsTypedArray() || t.As<Napi::TypedArray>().TypedArrayType() != type) throw Napi::TypeError::New(env, usage);
        return t.As<Napi::TypedArray>();
      };
      auto data = c.Get(0u).As<Napi::Buffer<uint8_t>>();
      auto off = typed(1, napi_uint32_array).As<Napi::Uint32Array>();
      auto cap = typed(2, napi_uint32_array).As<Napi::Uint32Array>();
      auto orig = typed(3, napi_uint32_array).As<Napi::Uint32Array>();
      auto sec = typed(4, napi_float64_array).As<Napi::Float64Array>();
      auto nsec = typed(5, napi_uint32_array).As<Napi::Uint32Array>();
      size_t capacity = off.ElementLength();
      for (size_t n : {cap.ElementLength(), orig.ElementLength(), sec.ElementLength(), nsec.ElementLength()}) capacity = std::min(capacity, n);
      if (capacity < ring_.maxPacketsPerBlock() || data.Length() < ring_.blockRoom()) throw Napi::RangeError::New(env, "start: each chunk needs room for one ring block (blockRoom bytes, maxPacketsPerBlock packets)");
      chunks.push_back(BatchArrays{data.Data(), data.Length(), off.Data(), cap.Data(), orig.Data(), sec.Data(), nsec.Data(), capacity, static_cast<netkit::Layout>(layout)});
    }
    // Keeps the arrays alive (and their memory where the thread writes) while the thread runs.
    keep_ = Napi::Persistent(Napi::Object(env, info[0]));
    keepCounts_ = Napi::Persistent(Napi::Object(env, info[1]));
    chunks_ = std::move(chunks);
    counts_ = counts.Data();
    free_.clear();
    for (size_t k = chunks_.size(); k-- > 0;) free_.push_back(static_cast<int>(k));
    StartThread(env, [this] { Run(); });
    return env.Undefined();
  }

  // startWriter(fd, layout, maxPackets, fileBytes): the addon writes the open file `fd` itself, as
  // pcap (layout 1, 2) or pcapng EPB (3, 4) records, with two threads: a reader that takes each
  // ready ring block and a writer that appends it; JS is woken only when they end (finish(),
  // close(), maxPackets written (0: no limit), the socket failing, or a failed write). Pcap blocks
  // of large packets go out in place from the ring with writev() (no copy in user space) while the
  // writer keeps up; other blocks, and any block while the writer is behind, are copied into a
  // spill buffer and given back to the kernel at once. A failed write cuts the file back to its
  // last whole record (it was `fileBytes` long at the start); see writerStats().
  Napi::Value StartWriter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsNumber() || !info[2].IsNumber() || !info[3].IsNumber())
      throw Napi::TypeError::New(env, "usage: startWriter(fd: number, layout: 1..4, maxPackets: number, fileBytes: number)");
    if (thread_.joinable() || ended_) throw Napi::Error::New(env, "startWriter: the capture thread was started already");
    if (ring_.fd() < 0) throw Napi::Error::New(env, "startWriter: the capture is closed");
    uint32_t layout = info[1].As<Napi::Number>().Uint32Value();
    if (layout < 1 || layout > 4) throw Napi::TypeError::New(env, "startWriter: layout must be 1 (pcap, µs), 2 (pcap, ns), 3 (pcapng, µs) or 4 (pcapng, ns)");
    outFd_ = info[0].As<Napi::Number>().Int32Value();
    double max = info[2].As<Napi::Number>().DoubleValue();
    maxPackets_ = max > 0 && max < 9e15 ? static_cast<uint64_t>(max) : 0;
    committed_ = static_cast<uint64_t>(info[3].As<Napi::Number>().DoubleValue());
    layout_ = static_cast<netkit::Layout>(layout);
    const size_t room = ring_.blockRoom(), packets = ring_.maxPacketsPerBlock();
    const size_t spills = std::max<size_t>(4, std::min<size_t>(16, ring_.blockCount() + 2));
    spills_.resize(spills);
    for (size_t k = 0; k < spills; k++) {
      Spill& sp = spills_[k];
      sp.data.resize(room);
      sp.off.resize(packets); sp.cap.resize(packets); sp.orig.resize(packets); sp.nsec.resize(packets); sp.sec.resize(packets);
      sp.arrays = BatchArrays{sp.data.data(), sp.data.size(), sp.off.data(), sp.cap.data(), sp.orig.data(), sp.sec.data(), sp.nsec.data(), packets, layout_};
      freeSpills_.push_back(static_cast<int>(k));
    }
    iovs_.resize(ring_.blockCount());
    held_.assign(ring_.blockCount(), 0);
    for (auto& v : iovs_) v.reserve(packets);
    StartThread(env, [this] { RunDrain(); });
    writer_ = std::thread([this] { RunWriter(); });
    return env.Undefined();
  }

  // writerStats() -> { packets, capturedBytes, fileBytes, errno }: what the writer thread wrote.
  Napi::Value WriterStats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::lock_guard<std::mutex> l(mu_);
    Napi::Object o = Napi::Object::New(env);
    o.Set("packets", Napi::Number::New(env, static_cast<double>(written_)));
    o.Set("capturedBytes", Napi::Number::New(env, static_cast<double>(capturedBytes_)));
    o.Set("fileBytes", Napi::Number::New(env, static_cast<double>(committed_)));
    o.Set("errno", Napi::Number::New(env, writeErrno_));
    return o;
  }

  // Writes `n` iovecs out whole, IOV_MAX at a time; false (errno set) on failure. A short write
  // moves the iovec it stopped in on.
  static bool WriteAllV(int fd, iovec* iov, size_t n) {
    size_t i = 0;
    while (i < n) {
      int cnt = static_cast<int>(std::min<size_t>(IOV_MAX, n - i));
      ssize_t w = ::writev(fd, iov + i, cnt);
      if (w < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      size_t left = static_cast<size_t>(w);
      while (i < n && left >= iov[i].iov_len) left -= iov[i++].iov_len;
      if (left > 0) {  // a short write: go on from inside this iovec
        iov[i].iov_base = static_cast<uint8_t*>(iov[i].iov_base) + left;
        iov[i].iov_len -= left;
      }
    }
    return true;
  }

  // The writer's reader: hands each ready block to the writer thread, in place (its records
  // laid out in the ring's headroom, for writev) while the writer keeps up, or copied into a
  // spill buffer and given back to the kernel at once when the writer is behind (a write that
  // stalls) or the block's packets are small (one write() of a buffer is then cheaper).
  void RunDrain() {
    // Named so that ps, top -H and /proc/PID/task/TID/comm tell the threads apart.
    pthread_setname_np(pthread_self(), "netkit-ring");
    const bool pcap = layout_ == netkit::Layout::PcapMicro || layout_ == netkit::Layout::PcapNano;
    const uint32_t nr = ring_.blockCount();
    // In-place blocks the writer may hold at once; later blocks are copied out and given back, so
    // a write() that runs long does not fill the ring. The kernel fills blocks in ring order and
    // drops packets as soon as the next one is not free, so the oldest block held in place must
    // be written before the kernel comes round to it. So a block goes in place only when less
    // than a MiB and a block wait to be written before it (it will be in the next write or the
    // one after, not behind a backlog of spill buffers: that lost packets at 300 kpps of
    // 1514-byte frames with writes of 5 ms at most), and in rings that gather across blocks (8
    // or more: the default 32 MiB ring has 128, -B 4096 has 16) the writer holds at most one
    // write's worth and one block more, at most half the ring; other blocks go to spill buffers
    // (a copy costs a fraction of the write). Smaller rings keep two blocks for the kernel.
    const bool carry = GathersAcrossBlocks();
    const size_t perWrite = (kWriteBytes + ring_.blockSize() - 1) / ring_.blockSize() + 1;
    const size_t inPlaceDepth = carry ? std::min<size_t>(nr / 2, perWrite) : nr > 3 ? nr - 2 : 1;
    EdgeWait edge(ring_.fd(), wakeFd_);
    uint32_t cur = ring_.cursor();
    auto told = std::chrono::steady_clock::now();
    for (;;) {
      bool finishing;
      {
        std::lock_guard<std::mutex> l(mu_);
        if (stop_) break;
        finishing = finishing_;
      }
      const bool ready = ring_.readyAt(cur);
      if (!ready && finishing) break;
      {
        // Wait for the writer, looking at the ring every millisecond meanwhile (a stalled write
        // must not keep later blocks waiting), when the block here is one it still holds in
        // place (user-owned but not new: the reader came round to it while the writer is behind).
        std::unique_lock<std::mutex> l(mu_);
        if (held_[cur]) {
          // The writer may be keeping this block's last records for its next write: it writes
          // them now.
          if (!readerWaits_) {
            readerWaits_ = true;
            queued_.notify_one();
          }
          freed_.wait_for(l, std::chrono::milliseconds(1), [this, cur] { return stop_ || !held_[cur]; });
          continue;
        }
      }
      if (!ready) {
        if (!WaitReady(edge, cur)) break;
        continue;
      }
      Entry e;
      bool inPlace = false;
      if (pcap && ring_.blockMeanPacket(cur) >= kInPlaceMean) {
        std::lock_guard<std::mutex> l(mu_);
        inPlace = (inPlaceQueued_ < inPlaceDepth && unwritten_ < kWriteBytes + ring_.blockSize()) || freeSpills_.empty();
      }
      try {
        if (inPlace) {
          iovs_[cur].clear();
          e.block = static_cast<int>(cur);
          e.n = ring_.prepareInPlace(cur, layout_, SIZE_MAX, iovs_[cur], &e.bytes, &e.captured);
          std::lock_guard<std::mutex> l(mu_);
          inPlaceQueued_++;
          held_[cur] = 1;
          unwritten_ += e.bytes;
          queue_.push_back(e);
        } else {
          {
            std::unique_lock<std::mutex> l(mu_);
            freed_.wait(l, [this] { return stop_ || !freeSpills_.empty(); });
            if (stop_) break;
            e.spill = freeSpills_.back();
            freeSpills_.pop_back();
          }
          Spill& sp = spills_[e.spill];
          size_t count = 0, used = 0;
          ring_.copyBlock(cur, sp.arrays, &count, &used);
          ring_.releaseAt(cur);
          e.n = count;
          e.bytes = used;
          for (size_t i = 0; i < count; i++) e.captured += sp.cap[i];
          std::lock_guard<std::mutex> l(mu_);
          unwritten_ += e.bytes;
          queue_.push_back(e);
        }
      } catch (const std::runtime_error&) {
        threadErrno_ = EINVAL;
        break;
      }
      // The writer is woken when it has a write to make (a MiB of records waits), not for every
      // block: each wake-up is a futex call here and a context switch there, a cost per block as
      // large as the work on its packets. It is woken at once when a limit is set (it counts),
      // when the reader is short of blocks or buffers, in rings too small to gather a MiB, and
      // when 100 ms have gone by; otherwise it finds the blocks when it looks (every 500 ms).
      const auto now = std::chrono::steady_clock::now();
      bool tell = !carry || maxPackets_ != 0 || now - told >= std::chrono::milliseconds(100);
      if (!tell) {
        std::lock_guard<std::mutex> l(mu_);
        tell = unwritten_ >= kWriteBytes || inPlaceQueued_ >= inPlaceDepth || freeSpills_.size() <= 2;
      }
      if (tell) {
        told = now;
        queued_.notify_one();
      }
      cur = (cur + 1) % nr;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      Entry end;
      end.end = true;
      queue_.push_back(end);
    }
    queued_.notify_one();
  }

  // The writer thread: writes the queued blocks in order, at most maxPackets_ packets, and gives
  // each back (the ring block, or the spill buffer) once it is in the file. What is queued is
  // gathered into large writev() calls (one a MiB or more, where the ring allows):
  //  - records of in-place blocks (one iovec each) go out a MiB at a time in rings of 8 blocks
  //    or more, so a block's last records wait for the next block's first (a 256 KiB block of
  //    1514-byte packets holds 165, a MiB is 686); in smaller rings each block goes out at once;
  //  - spill buffers (one iovec each; a block of small packets holds a fraction of its size in
  //    records) go out, with anything gathered before them, once a MiB or more is gathered or
  //    the reader would run short of buffers;
  //  - everything gathered goes out when the reader waits for a block the writer holds, after
  //    half a second without a new block, at the limit, and at the end.
  void RunWriter() {
    pthread_setname_np(pthread_self(), "netkit-writer");
    const bool pcap = layout_ == netkit::Layout::PcapMicro || layout_ == netkit::Layout::PcapNano;
    const size_t maxHeld = spills_.size() > 2 ? spills_.size() - 2 : 1;
    // A MiB-sized write holds the blocks its records are in while it runs (five of 256 KiB), and
    // the kernel fills the ring in order: the oldest held block is the one it needs next. In a
    // ring of 4 blocks of 1 MiB, keeping a block's tail for the next write left the kernel two
    // blocks to fill during a stalled write instead of three, and on a VM whose file system
    // stalls for tens of ms that lost packets at 76 MB/s. So tails wait only in rings of 8
    // blocks or more; smaller rings get one writev() per in-place block.
    const bool carry = GathersAcrossBlocks();
    // What is gathered, in file order: each part a spill buffer or records of a ring block.
    struct Part {
      int spill = -1;
      int block = -1;
      size_t iovs = 0, packets = 0, bytes = 0;
      uint64_t captured = 0;
    };
    std::deque<Part> parts;
    std::vector<Part> done;  // the parts a write finishes
    std::vector<iovec> gather;
    gather.reserve(4 * IOV_MAX);
    size_t gatherBytes = 0, spillsHeld = 0;
    uint64_t accepted = 0;  // packets taken for writing (written, or gathered), for the limit
    // Writes the first `count` gathered iovecs; gives back the buffers and blocks written whole.
    auto writeOut = [&](size_t count) -> bool {
      // What the write holds, counted before it runs (a short write moves iovecs on).
      size_t packets = 0, bytes = 0, left = count;
      uint64_t captured = 0;
      done.clear();
      size_t partial = 0, partialBytes = 0;  // records of the first part left ungathered
      for (const Part& p : parts) {
        if (left == 0 && p.iovs > 0) break;
        if (p.iovs <= left) {
          done.push_back(p);
          packets += p.packets; bytes += p.bytes; captured += p.captured;
          left -= p.iovs;
        } else {  // part of an in-place block: each iovec is one record
          const size_t base = count - left;
          for (size_t i = 0; i < left; i++) partialBytes += gather[base + i].iov_len;
          partial = left;
          packets += left; bytes += partialBytes; captured += partialBytes - 16 * left;
          left = 0;
        }
      }
      const bool good = WriteAllV(outFd_, gather.data(), count);
      const int err = errno;
      for (size_t i = 0; i < done.size(); i++) parts.pop_front();
      if (partial > 0) {
        Part& p = parts.front();
        p.iovs -= partial; p.packets -= partial; p.bytes -= partialBytes; p.captured -= partialBytes - 16 * partial;
      }
      gather.erase(gather.begin(), gather.begin() + static_cast<std::ptrdiff_t>(count));
      gatherBytes -= bytes;
      for (const Part& p : done) if (p.block >= 0) ring_.releaseAt(static_cast<uint32_t>(p.block));
      {
        std::lock_guard<std::mutex> l(mu_);
        for (const Part& p : done) {
          if (p.spill >= 0) { freeSpills_.push_back(p.spill); spillsHeld--; }
          else { inPlaceQueued_--; held_[p.block] = 0; }
        }
        readerWaits_ = false;
        unwritten_ -= std::min(unwritten_, bytes);
        if (good) {
          written_ += packets;
          capturedBytes_ += captured;
          committed_ += bytes;
        }
      }
      freed_.notify_all();
      errno = err;
      return good;
    };
    // Writes all that is gathered (and gives back blocks that had no record left to write).
    auto writeAll = [&]() -> bool {
      do {
        if (!writeOut(std::min<size_t>(IOV_MAX, gather.size()))) return false;
      } while (!gather.empty());
      return true;
    };
    bool ok = true;
    for (;;) {
      Entry e;
      bool have = false, end = false, readerWaits = false;
      {
        std::unique_lock<std::mutex> l(mu_);
        auto some = [this, &parts] { return stop_ || !queue_.empty() || (readerWaits_ && !parts.empty()); };
        // Timed also with nothing gathered: the reader does not wake this thread for every block.
        queued_.wait_for(l, std::chrono::milliseconds(500), some);
        if (stop_) break;
        readerWaits = readerWaits_;
        if (!queue_.empty()) {
          end = queue_.front().end;
          if (!end) {
            e = queue_.front();
            queue_.pop_front();
            have = true;
          }
        }
      }
      if (!have) {  // the end, the reader waiting for a held block, or half a second without one
        if (parts.empty() && !end) continue;
        if (!(ok = writeAll()) || end) break;
        continue;
      }
      const size_t k = maxPackets_ == 0 ? e.n : std::min<size_t>(e.n, maxPackets_ - accepted);
      accepted += k;
      Part p;
      p.packets = k;
      p.bytes = e.bytes;
      p.captured = e.captured;
      p.iovs = 1;
      if (e.block >= 0) {
        std::vector<iovec>& iov = iovs_[e.block];
        if (k < e.n) {
          iov.resize(k);
          p.bytes = 0;
          for (const iovec& v : iov) p.bytes += v.iov_len;
          p.captured = p.bytes - 16 * k;
        }
        p.block = e.block;
        p.iovs = k;
        gather.insert(gather.end(), iov.begin(), iov.end());
      } else {
        Spill& sp = spills_[e.spill];
        if (k < e.n) {
          p.bytes = k == 0 ? 0 : sp.off[k - 1] + (pcap ? sp.cap[k - 1] : ((sp.cap[k - 1] + 3) & ~3u) + 4);
          p.captured = 0;
          for (size_t i = 0; i < k; i++) p.captured += sp.cap[i];
        }
        p.spill = e.spill;
        spillsHeld++;
        gather.push_back(iovec{sp.data.data(), p.bytes});
      }
      parts.push_back(p);
      gatherBytes += p.bytes;
      // Out as soon as a MiB is gathered (or IOV_MAX records, a MiB or more where blocks go in
      // place): the records up to the one that completes the MiB, the rest waiting for the next.
      while (ok && (gather.size() >= IOV_MAX || (carry && gatherBytes >= kWriteBytes))) {
        size_t count = 0, bytes = 0;
        while (count < gather.size() && count < IOV_MAX && bytes < kWriteBytes) bytes += gather[count++].iov_len;
        ok = writeOut(count);
      }
      if (ok && (readerWaits || (maxPackets_ != 0 && accepted >= maxPackets_) || (p.block >= 0 && !carry) ||
                 (p.spill >= 0 && (gatherBytes >= kWriteBytes || spillsHeld >= maxHeld)))) ok = writeAll();
      if (!ok || (maxPackets_ != 0 && accepted >= maxPackets_)) break;
    }
    if (ok) ok = writeAll();  // a close() while records were gathered: they are whole, keep them
    if (!ok) {
      const int err = errno;
      // Keep the file valid: cut off what a failed write left of a record.
      (void)!::ftruncate(outFd_, static_cast<off_t>(committed_));
      std::lock_guard<std::mutex> l(mu_);
      writeErrno_ = err;
    }
    {
      std::lock_guard<std::mutex> l(mu_);
      stop_ = true;  // the reader ends too (it may be waiting for a spill buffer or the socket)
    }
    freed_.notify_all();
    Wake();
    EndThread();
  }

  // Waits for the socket: true when a block may be ready (or a wake-up came), false when the
  // wait failed (threadErrno_ set) or the socket failed with no block left (failed_ set).
  bool WaitReady(EdgeWait& edge, uint32_t index) {
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

  void EndThread() {
    {
      std::lock_guard<std::mutex> l(mu_);
      ended_ = true;
    }
    uv_async_send(async_);
  }

  // The eventfd that wakes the thread's poll, the uv_async that wakes JS, then the thread.
  void StartThread(Napi::Env env, std::function<void()> body) {
    wakeFd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (wakeFd_ < 0) throw Napi::Error::New(env, std::string("eventfd: ") + std::strerror(errno));
    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "start: no event loop");
    async_ = new uv_async_t;
    int r = uv_async_init(loop, async_, &Capture::OnAsync);
    if (r != 0) { delete async_; async_ = nullptr; throw Napi::Error::New(env, std::string("uv_async_init: ") + uv_strerror(r)); }
    async_->data = this;
    // Only a pending wait() keeps the process alive, as a listening socket does.
    uv_unref(reinterpret_cast<uv_handle_t*>(async_));
    thread_ = std::thread(std::move(body));
  }

  // The capture thread: moves ready ring blocks into free chunks until told to stop, told to
  // finish (and the ring holds no ready block), or the socket fails.
  void Run() {
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

  // wait(callback): calls callback() once, on the JS thread, when a chunk is filled or the thread
  // ended (at once if either is so already). Only while a wait is pending does the capture hold
  // the callback, and keep the process alive; otherwise an abandoned capture can be collected.
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "usage: wait(callback: () => void)");
    if (async_ == nullptr) throw Napi::Error::New(env, "wait: the capture thread is not running");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    uv_ref(reinterpret_cast<uv_handle_t*>(async_));
    bool now;
    {
      std::lock_guard<std::mutex> l(mu_);
      now = ended_ || !filled_.empty();
    }
    if (now) uv_async_send(async_);
    return env.Undefined();
  }

  static void OnAsync(uv_async_t* handle) {
    auto* self = static_cast<Capture*>(handle->data);
    if (self == nullptr || self->callback_.IsEmpty()) return;
    uv_unref(reinterpret_cast<uv_handle_t*>(handle));
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Function cb = self->callback_.Value();
    self->callback_.Reset();
    try {
      cb.MakeCallback(env.Global(), {}, self->ctx_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any callback's throw
    }
  }

  // take() -> index of the oldest filled chunk (counts[k] packets), or -1 when none is waiting.
  Napi::Value Take(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> l(mu_);
    if (filled_.empty()) return Napi::Number::New(info.Env(), -1);
    int k = filled_.front();
    filled_.pop_front();
    return Napi::Number::New(info.Env(), k);
  }

  // give(k): chunk k is free for the thread to fill again.
  Napi::Value Give(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsNumber()) throw Napi::TypeError::New(env, "usage: give(chunk: number)");
    int k = info[0].As<Napi::Number>().Int32Value();
    if (k < 0 || static_cast<size_t>(k) >= chunks_.size()) throw Napi::RangeError::New(env, "give: no such chunk");
    {
      std::lock_guard<std::mutex> l(mu_);
      free_.push_back(k);
    }
    freed_.notify_one();
    return env.Undefined();
  }

  // finish(): the thread hands over what the ring holds now and then ends (ended becomes true).
  Napi::Value Finish(const Napi::CallbackInfo& info) {
    {
      std::lock_guard<std::mutex> l(mu_);
      finishing_ = true;
    }
    Wake();
    return info.Env().Undefined();
  }

  // True once the thread has ended and every filled chunk was taken; `failed` when the socket
  // failed (see socketError()).
  Napi::Value Ended(const Napi::CallbackInfo& info) {
    std::lock_guard<std::mutex> l(mu_);
    Napi::Env env = info.Env();
    if (!ended_ || !filled_.empty()) return Napi::Boolean::New(env, false);
    if (failed_ || threadErrno_ != 0) return Napi::String::New(env, "failed");
    return Napi::Boolean::New(env, true);
  }

  void Wake() {
    if (wakeFd_ >= 0) {
      uint64_t one = 1;
      (void)!::write(wakeFd_, &one, sizeof one);
    }
  }

  // setFilter(program: Buffer of struct sock_filter, 8 bytes each, host byte order).
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "usage: setFilter(program: Buffer) with 8-byte struct sock_filter entries");
    std::vector<sock_filter> prog = Program(env, info[0], "setFilter");
    if (thread_.joinable()) throw Napi::Error::New(env, "setFilter: the capture thread owns the ring; use rejectAll() and replaceFilter()");
    try {
      ring_.setFilter(prog);
    } catch (const std::runtime_error& e) {
      Napi::Error err = Napi::Error::New(env, e.what());
      err.Set("errno", Napi::Number::New(env, ring_.lastErrno));
      throw err;
    }
    return env.Undefined();
  }

  // A program from JS: a Buffer of 8-byte struct sock_filter entries in host byte order.
  static std::vector<sock_filter> Program(Napi::Env env, Napi::Value v, const char* what) {
    if (!v.IsBuffer()) throw Napi::TypeError::New(env, std::string(what) + ": the program must be a Buffer of 8-byte struct sock_filter entries");
    auto b = v.As<Napi::Buffer<uint8_t>>();
    if (b.Length() == 0 || b.Length() % sizeof(sock_filter) != 0 || b.Length() / sizeof(sock_filter) > BPF_MAXINSNS)
      throw Napi::TypeError::New(env, std::string(what) + ": the program must hold 1 to 4096 instructions of 8 bytes");
    std::vector<sock_filter> prog(b.Length() / sizeof(sock_filter));
    std::memcpy(prog.data(), b.Data(), b.Length());
    return prog;
  }

  // replaceFilter(program: Buffer): attaches without the swap (the caller has drained the ring).
  Napi::Value ReplaceFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    std::vector<sock_filter> prog = Program(env, info[0], "replaceFilter");
    try {
      ring_.replaceFilter(prog);
    } catch (const std::runtime_error& e) {
      Napi::Error err = Napi::Error::New(env, e.what());
      err.Set("errno", Napi::Number::New(env, ring_.lastErrno));
      throw err;
    }
    return env.Undefined();
  }

  Napi::Value RejectAll(const Napi::CallbackInfo& info) {
    try {
      ring_.rejectAll();
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(info.Env(), e.what());
    }
    return info.Env().Undefined();
  }

  Napi::Value SocketError(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ring_.socketError()); }

  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    netkit::RingStats s = ring_.stats();
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", Napi::Number::New(env, static_cast<double>(s.received)));
    o.Set("dropped", Napi::Number::New(env, static_cast<double>(s.dropped)));
    o.Set("freezes", Napi::Number::New(env, static_cast<double>(s.freezes)));
    return o;
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    Shutdown();
    return info.Env().Undefined();
  }

  Napi::Value BlockRoom(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ring_.blockRoom())); }
  Napi::Value MaxPackets(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), static_cast<double>(ring_.maxPacketsPerBlock())); }
  Napi::Value BlockCount(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), ring_.blockCount()); }
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ring_.fd() < 0); }

  // Stops and joins the thread before the ring is unmapped; the async handle is freed in its close
  // callback, after libuv is done with it. Safe to call twice and from the finalizer.
  void Shutdown() {
    if (thread_.joinable()) {
      {
        std::lock_guard<std::mutex> l(mu_);
        stop_ = true;
      }
      freed_.notify_all();
      queued_.notify_all();
      Wake();
      thread_.join();
      if (writer_.joinable()) writer_.join();
    }
    if (async_ != nullptr) {
      async_->data = nullptr;
      uv_close(reinterpret_cast<uv_handle_t*>(async_), [](uv_handle_t* h) { delete reinterpret_cast<uv_async_t*>(h); });
      async_ = nullptr;
    }
    if (wakeFd_ >= 0) { ::close(wakeFd_); wakeFd_ = -1; }
    {
      std::lock_guard<std::mutex> l(mu_);
      filled_.clear();
      ended_ = true;
    }
    callback_.Reset();
    keep_.Reset();
    keepCounts_.Reset();
    ring_.close();
  }

  // The least a gathered write aims for: one write() per MiB.
  static constexpr size_t kWriteBytes = 1u << 20;
  // Rings of 8 blocks or more gather records across blocks (a block's tail waits for the next).
  bool GathersAcrossBlocks() const { return ring_.blockCount() >= 8; }
  // Blocks whose packets average this many bytes or more are written in place (writev).
  // So that IOV_MAX records make a MiB: the ring has up to 96 bytes (tpacket3_hdr, sockaddr_ll,
  // alignment) before each frame where the record has its 16-byte header.
  static constexpr size_t kInPlaceMean = kWriteBytes / IOV_MAX + 96;

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
/**
 * setRcvLowat(fd, bytes): SO_RCVLOWAT on a socket the caller owns (netkit http's pipelined
 * connections: a read wakes for a few responses at once, see src/http/connection.ts).
 * Returns 0, or the errno.
 */
Napi::Value SetRcvLowat(const Napi::CallbackInfo& info) {
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const int bytes = info[1].As<Napi::Number>().Int32Value();
  const int rc = ::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
  return Napi::Number::New(info.Env(), rc == 0 ? 0 : errno);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Define(env));
  exports.Set("setRcvLowat", Napi::Function::New(env, SetRcvLowat, "setRcvLowat"));
  return exports;
}

}  // namespace

NODE_API_MODULE(netkit_capture, Init)
