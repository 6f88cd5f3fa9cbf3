// FileWindow: a window of a regular file mapped read-only into a fixed range of address space
// that JS sees as one external Buffer, made once. map() moves the window along the file (one
// call per window, never per record): the kernel's page cache pages are mapped, not copied, so
// reading a capture file costs page-table entries instead of read(2)'s copy (see "The subset job
// at tcpdump's speed" in docs/performance.md). The file reader in src/pcap/byte-source.ts uses it
// for regular files and keeps read(2) for pipes, stdin and when the addon is absent.
//
// Invariants:
// - The reserved range [base_, base_ + size_) stays mapped from the constructor until the Buffer
//   that views it is collected (its finalizer unmaps it), so no JS view can ever point at
//   unmapped memory. Where no file page is mapped the range holds anonymous zero pages
//   (PROT_READ, MAP_PRIVATE|MAP_ANONYMOUS), which cost no memory until read.
// - map() replaces the previous window with MAP_FIXED, which unmaps it first (mmap(2)): at most
//   size_ bytes of the file are ever mapped, so the file pages counted in RSS stay bounded by the
//   window whatever the file's size. Bytes of an old window that JS still views then read as the
//   new window's (as with a reused read buffer): a batch is valid until the next is requested.
// - Only whole pages that the file covers are mapped as file pages: touching a page wholly past
//   the end of a file raises SIGBUS (mmap(2)); the tail of the file's last page reads as zeros.
//   A file cut shorter by another process while it is mapped can still raise SIGBUS, as with any
//   mapped file; callers map only regular files they opened for reading.
// - prefetch() maps the next window on the window's own thread (started at the first prefetch,
//   kept until the window is collected) while JS reads another FileWindow, so that the page-table
//   work of MAP_POPULATE (the kernel's share of reading a mapped file) runs beside the parse
//   instead of before it. While a prefetch is in flight only that thread touches the mapping
//   (base_, mapped_); settle(), map() and release() wait for it first. JS views of this window
//   meanwhile read old, new or zero pages but never unmapped memory, because MAP_FIXED replaces
//   a range in one step.
#include <napi.h>

#include <limits.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>

#include <pthread.h>

#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

namespace netkit {
namespace {

size_t PageSize() {
  static const size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  return page;
}

std::string Errno(const char* what) {
  return std::string(what) + ": " + std::strerror(errno);
}

// Maps anonymous zero pages over [at, at + length) (MAP_FIXED replaces what was there).
bool MapZeros(void* at, size_t length) {
  return mmap(at, length, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE, -1, 0) != MAP_FAILED;
}

class FileWindow : public Napi::ObjectWrap<FileWindow> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FileWindow", {
      InstanceMethod<&FileWindow::Map>("map"),
      InstanceMethod<&FileWindow::Prefetch>("prefetch"),
      InstanceMethod<&FileWindow::Settle>("settle"),
      InstanceMethod<&FileWindow::Release>("release"),
      InstanceAccessor<&FileWindow::GetBuffer>("buffer"),
      StaticMethod<&FileWindow::WriteRanges>("writeRanges"),
      StaticValue("pageSize", Napi::Number::New(env, static_cast<double>(PageSize()))),
    });
  }

  // new FileWindow(fd, size): reserves `size` bytes (rounded up to whole pages) for windows of
  // the open file `fd`. The descriptor stays the caller's: a mapping holds its own reference to
  // the file (mmap(2)), so closing `fd` does not end a window already mapped.
  explicit FileWindow(const Napi::CallbackInfo& info) : Napi::ObjectWrap<FileWindow>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, "usage: new FileWindow(fd: number, size: number)");
    fd_ = info[0].As<Napi::Number>().Int32Value();
    double size = info[1].As<Napi::Number>().DoubleValue();
    // The window is a Buffer whose offsets JS keeps in Uint32Arrays: at most 1 GiB.
    if (fd_ < 0 || !(size >= 1) || size > 1073741824.0)
      throw Napi::TypeError::New(env, "new FileWindow: fd must be an open descriptor and size 1..1 GiB");
    const size_t page = PageSize();
    size_ = (static_cast<size_t>(size) + page - 1) / page * page;
    void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw Napi::Error::New(env, Errno("FileWindow: reserving address space"));
    base_ = static_cast<char*>(p);
    // The Buffer owns the reservation: it is unmapped when the Buffer (and every view) is gone.
    const size_t reserved = size_;
    buffer_ = Napi::Persistent(Napi::Buffer<char>::New(env, base_, size_, [reserved](Napi::Env, char* data) {
      munmap(data, reserved);
    }));
  }

  // The thread is stopped and joined: it reads and writes this object.
  ~FileWindow() override {
    if (!worker_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      stop_ = true;
    }
    wake_.notify_one();
    worker_.join();
  }

 private:
  // FileWindow.writeRanges(fd, data, ranges, count): appends data[ranges[2i], ranges[2i + 1]) for
  // i < count to the open file `fd`, in order, with writev(2) of up to IOV_MAX ranges at a time,
  // so that runs of records go from a window (or any buffer) to the kernel without a copy in
  // user space. Returns the bytes written, or -errno when a write failed (some ranges may then
  // have been written: the caller cuts the file back). A short write is resumed where it stopped;
  // EINTR is retried. `fd` must be a blocking descriptor (EAGAIN is returned, not waited for).
  static Napi::Value WriteRanges(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 4 || !info[0].IsNumber() || !info[1].IsTypedArray() || !info[2].IsTypedArray() || !info[3].IsNumber())
      throw Napi::TypeError::New(env, "usage: FileWindow.writeRanges(fd: number, data: Uint8Array, ranges: Uint32Array, count: number)");
    const int fd = info[0].As<Napi::Number>().Int32Value();
    Napi::TypedArray dataArray = info[1].As<Napi::TypedArray>();
    Napi::TypedArray rangesArray = info[2].As<Napi::TypedArray>();
    if (dataArray.TypedArrayType() != napi_uint8_array || rangesArray.TypedArrayType() != napi_uint32_array)
      throw Napi::TypeError::New(env, "FileWindow.writeRanges: data must be a Uint8Array and ranges a Uint32Array");
    const auto data = dataArray.As<Napi::Uint8Array>();
    const auto ranges = rangesArray.As<Napi::Uint32Array>();
    const double countArg = info[3].As<Napi::Number>().DoubleValue();
    if (!(countArg >= 0) || countArg * 2 > static_cast<double>(ranges.ElementLength()))
      throw Napi::TypeError::New(env, "FileWindow.writeRanges: count must be 0..ranges.length / 2");
    const size_t count = static_cast<size_t>(countArg);
    const size_t length = data.ElementLength();
    const uint8_t* bytes = data.Data();
    const uint32_t* r = ranges.Data();
    for (size_t i = 0; i < count; i++) {
      if (r[2 * i] > r[2 * i + 1] || r[2 * i + 1] > length)
        throw Napi::RangeError::New(env, "FileWindow.writeRanges: a range lies outside data");
    }
    iovec iov[IOV_MAX];
    double total = 0;
    size_t next = 0;
    while (next < count) {
      int n = 0;
      for (; next < count && n < IOV_MAX; next++) {
        if (r[2 * next] == r[2 * next + 1]) continue;
        iov[n].iov_base = const_cast<uint8_t*>(bytes + r[2 * next]);
        iov[n].iov_len = r[2 * next + 1] - r[2 * next];
        n++;
      }
      // Write iov[0, n), resuming after a short write inside the iovec it stopped in.
      int at = 0;
      while (at < n) {
        const ssize_t w = writev(fd, iov + at, n - at);
        if (w < 0) {
          if (errno == EINTR) continue;
          return Napi::Number::New(env, -errno);
        }
        total += static_cast<double>(w);
        size_t left = static_cast<size_t>(w);
        while (at < n && left >= iov[at].iov_len) left -= iov[at++].iov_len;
        if (at < n) {
          iov[at].iov_base = static_cast<char*>(iov[at].iov_base) + left;
          iov[at].iov_len -= left;
        }
      }
    }
    return Napi::Number::New(env, total);
  }

  // map(offset, length): maps file bytes [offset, offset + length) at the start of the window
  // and returns length. offset must be a multiple of FileWindow.pageSize and length at most the
  // window's size; the caller takes length from the file's current size (fstat), so that every
  // page mapped is one the file covers. What lies in the window past length is zero pages.
  Napi::Value Map(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    const Range r = CheckedRange(info, "map");
    Join();
    unsettled_ = false;
    const std::string error = MapRange(r.offset, r.length);
    if (!error.empty()) throw Napi::Error::New(env, error);
    return Napi::Number::New(env, static_cast<double>(r.length));
  }

  // prefetch(offset, length): as map(), on the window's thread; returns at once. The window's
  // bytes are undefined until settle() returns.
  Napi::Value Prefetch(const Napi::CallbackInfo& info) {
    const Range r = CheckedRange(info, "prefetch");
    Join();
    if (!worker_.joinable()) worker_ = std::thread([this] { Work(); });
    {
      std::lock_guard<std::mutex> lock(mutex_);
      pendingOffset_ = r.offset;
      pendingLength_ = r.length;
      inFlight_ = true;
    }
    unsettled_ = true;
    wake_.notify_one();
    return info.Env().Undefined();
  }

  // settle(): waits for the last prefetch() and returns its length, or throws its error.
  Napi::Value Settle(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!unsettled_) throw Napi::Error::New(env, "window.settle: no prefetch to settle");
    Join();
    unsettled_ = false;
    if (!pendingError_.empty()) throw Napi::Error::New(env, pendingError_);
    return Napi::Number::New(env, static_cast<double>(pendingLength_));
  }

  // The window's thread: maps each prefetch() request, then waits for the next.
  void Work() {
    pthread_setname_np(pthread_self(), "netkit-prefetch");
    std::unique_lock<std::mutex> lock(mutex_);
    for (;;) {
      wake_.wait(lock, [this] { return stop_ || (inFlight_ && !mapping_); });
      if (stop_) return;
      mapping_ = true;
      const size_t offset = pendingOffset_, len = pendingLength_;
      lock.unlock();
      std::string error = MapRange(offset, len);
      if (error.empty()) TouchPages(len);
      lock.lock();
      pendingError_ = std::move(error);
      mapping_ = false;
      inFlight_ = false;
      done_.notify_one();
    }
  }

  // File bytes [offset, offset + length) to map.
  struct Range {
    size_t offset;
    size_t length;
  };

  // The (offset, length) arguments of map() and prefetch(), checked.
  Range CheckedRange(const Napi::CallbackInfo& info, const char* method) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber())
      throw Napi::TypeError::New(env, std::string("usage: window.") + method + "(offset: number, length: number)");
    const double offset = info[0].As<Napi::Number>().DoubleValue();
    const double length = info[1].As<Napi::Number>().DoubleValue();
    const size_t page = PageSize();
    if (!(offset >= 0) || offset > 9007199254740991.0 || static_cast<uint64_t>(offset) % page != 0)
      throw Napi::TypeError::New(env, std::string("window.") + method + ": offset must be a non-negative multiple of FileWindow.pageSize");
    if (!(length >= 0) || length > static_cast<double>(size_))
      throw Napi::TypeError::New(env, std::string("window.") + method + ": length must be 0..the window's size");
    return Range{static_cast<size_t>(offset), static_cast<size_t>(length)};
  }

  // Maps file bytes [offset, offset + len) at base_, zero pages after them; an error message, or
  // "" on success. Runs on the JS thread (map) or the prefetch thread, never on both at once.
  std::string MapRange(size_t offset, size_t len) {
    const size_t page = PageSize();
    const size_t pages = (len + page - 1) / page * page;
    if (pages > 0) {
      // MAP_POPULATE: the caller reads the window front to back, so every page is wanted; mapping
      // them all in this call costs less than a page fault per 64 KiB (the kernel's fault-around).
      void* p = mmap(base_, pages, PROT_READ, MAP_SHARED | MAP_FIXED | MAP_POPULATE, fd_, static_cast<off_t>(offset));
      if (p == MAP_FAILED) {
        const std::string why = Errno("mapping the file");
        MapZeros(base_, size_);
        mapped_ = 0;
        return why;
      }
    }
    // Zero pages where the previous window reached further than this one.
    if (mapped_ > pages && !MapZeros(base_ + pages, mapped_ - pages)) return Errno("unmapping the previous window");
    mapped_ = pages;
    return "";
  }

  // Reads one byte of each page of [base_, base_ + len) (the prefetch thread, after mapping):
  // MAP_POPULATE fills the page tables, but the first access to each page still costs (the
  // page walk that marks the entry accessed; nested under a hypervisor). Made here, that cost
  // leaves the JS thread as the mapping's does (docs/performance.md, "-T text and the second core").
  void TouchPages(size_t len) {
    const size_t page = PageSize();
    unsigned char seen = 0;
    for (size_t i = 0; i < len; i += page) seen ^= static_cast<unsigned char>(base_[i]);
    touched_ = seen;
  }

  // Waits until no prefetch is in flight.
  void Join() {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return !inFlight_; });
  }

  // release(): unmaps the file (zero pages take its place) so that its pages leave RSS now
  // rather than when the Buffer is collected. map() may be called again after it.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    Join();
    unsettled_ = false;
    if (mapped_ > 0 && MapZeros(base_, mapped_)) mapped_ = 0;
    return info.Env().Undefined();
  }

  Napi::Value GetBuffer(const Napi::CallbackInfo&) {
    return buffer_.Value();
  }

  int fd_ = -1;
  char* base_ = nullptr;
  // The prefetch thread and its request: inFlight_ from prefetch() until the mapping is done
  // (mapping_ while the thread works on it); pending* are the request and its outcome.
  std::thread worker_;
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  bool stop_ = false;
  bool inFlight_ = false;
  bool mapping_ = false;
  size_t pendingOffset_ = 0;
  size_t pendingLength_ = 0;
  std::string pendingError_;
  // What TouchPages read (kept so that the reads are not optimised away).
  volatile unsigned char touched_ = 0;
  // prefetch() was called and neither settle() nor map() has followed: settle() may read its outcome.
  bool unsettled_ = false;
  size_t size_ = 0;
  // Bytes at the start of the window that hold file pages (whole pages).
  size_t mapped_ = 0;
  Napi::Reference<Napi::Buffer<char>> buffer_;
};

}  // namespace

// The FileWindow class, for binding.cc.
Napi::Function DefineFileWindow(Napi::Env env) {
  return FileWindow::Define(env);
}

}  // namespace netkit
