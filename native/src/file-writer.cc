// Capture's file writer: startWriter() and its two threads, a reader that hands ring blocks
// over (in place, or copied into spill buffers) and a writer that appends them to the file in
// large gathered writes. The numbers that tune it are WriterPolicy's (writer-policy.h).
#include "capture.h"

#include <limits.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <stdexcept>

namespace netkit {

// startWriter(fd, layout, maxPackets, fileBytes): the addon writes the open file `fd` itself, as
// pcap (layout 1, 2) or pcapng EPB (3, 4) records, with two threads: a reader that takes each
// ready ring block and a writer that appends it; JS is woken only when they end (finish(),
// close(), maxPackets written (0: no limit), the socket failing, or a failed write). Pcap blocks
// of large packets go out in place from the ring with writev() (no copy in user space) while the
// writer keeps up; other blocks, and any block while the writer is behind, are copied into a
// spill buffer and given back to the kernel at once. A failed write cuts the file back to its
// last whole record (it was `fileBytes` long at the start); see writerStats().
Napi::Value Capture::StartWriter(const Napi::CallbackInfo& info) {
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
  const size_t spills = WriterPolicy::Buffers(ring_.blockCount());
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
Napi::Value Capture::WriterStats(const Napi::CallbackInfo& info) {
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
bool Capture::WriteAllV(int fd, iovec* iov, size_t n) {
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
void Capture::RunDrain() {
  // Named so that ps, top -H and /proc/PID/task/TID/comm tell the threads apart.
  pthread_setname_np(pthread_self(), "netkit-ring");
  const bool pcap = layout_ == netkit::Layout::PcapMicro || layout_ == netkit::Layout::PcapNano;
  const uint32_t nr = ring_.blockCount();
  // In-place blocks the writer may hold at once; later blocks are copied out and given back, so
  // a write() that runs long does not fill the ring. The kernel fills blocks in ring order and
  // drops packets as soon as the next one is not free, so the oldest block held in place must
  // be written before the kernel comes round to it. So a block goes in place only when less
  // than a MiB and a block wait to be written before it (it will be in the next write or the
  // one after, not behind a backlog of spill buffers; docs/performance.md, "Capture to file"),
  // and in rings that gather across blocks (WriterPolicy::kGatherMinBlocks or more: the
  // default 32 MiB ring has 128, -B 4096 has 16) the writer holds at most one
  // write's worth and one block more, at most half the ring; other blocks go to spill buffers
  // (a copy costs a fraction of the write). Smaller rings keep two blocks for the kernel.
  const bool carry = GathersAcrossBlocks();
  const size_t perWrite = (WriterPolicy::kWriteBytes + ring_.blockSize() - 1) / ring_.blockSize() + 1;
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
        freed_.wait_for(l, std::chrono::milliseconds(WriterPolicy::kHeldBlockPollMs), [this, cur] { return stop_ || !held_[cur]; });
        continue;
      }
    }
    if (!ready) {
      if (!WaitReady(edge, cur)) break;
      continue;
    }
    Entry e;
    bool inPlace = false;
    if (pcap && ring_.blockMeanPacket(cur) >= WriterPolicy::kInPlaceMean) {
      std::lock_guard<std::mutex> l(mu_);
      inPlace = (inPlaceQueued_ < inPlaceDepth && unwritten_ < WriterPolicy::kWriteBytes + ring_.blockSize()) || freeSpills_.empty();
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
    bool tell = !carry || maxPackets_ != 0 || now - told >= std::chrono::milliseconds(WriterPolicy::kWakeWriterMs);
    if (!tell) {
      std::lock_guard<std::mutex> l(mu_);
      tell = unwritten_ >= WriterPolicy::kWriteBytes || inPlaceQueued_ >= inPlaceDepth || freeSpills_.size() <= 2;
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
void Capture::RunWriter() {
  pthread_setname_np(pthread_self(), "netkit-writer");
  const bool pcap = layout_ == netkit::Layout::PcapMicro || layout_ == netkit::Layout::PcapNano;
  const size_t maxHeld = spills_.size() > 2 ? spills_.size() - 2 : 1;
  // A MiB-sized write holds the blocks its records are in while it runs (five of 256 KiB), and
  // the kernel fills the ring in order: the oldest held block is the one it needs next. So a
  // block's tail waits for the next write only in rings of WriterPolicy::kGatherMinBlocks or
  // more; smaller rings get one writev() per in-place block (writer-policy.h says why).
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
      queued_.wait_for(l, std::chrono::milliseconds(WriterPolicy::kWriterIdleMs), some);
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
    while (ok && (gather.size() >= IOV_MAX || (carry && gatherBytes >= WriterPolicy::kWriteBytes))) {
      size_t count = 0, bytes = 0;
      while (count < gather.size() && count < IOV_MAX && bytes < WriterPolicy::kWriteBytes) bytes += gather[count++].iov_len;
      ok = writeOut(count);
    }
    if (ok && (readerWaits || (maxPackets_ != 0 && accepted >= maxPackets_) || (p.block >= 0 && !carry) ||
               (p.spill >= 0 && (gatherBytes >= WriterPolicy::kWriteBytes || spillsHeld >= maxHeld)))) ok = writeAll();
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

}  // namespace netkit
