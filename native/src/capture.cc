// Capture's JS surface (constructor, start, wait/take/give, filters, stats, close) and the
// plumbing its threads share: the eventfd that wakes them, the uv_async that wakes JS.
#include "capture.h"

#include <limits.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace netkit {

namespace {


const char* kUsage =
    "new Capture({ ifindex: number, snaplen?: number, promisc?: boolean, bufferBytes: number, "
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


// A PacketRing failure as a JS Error carrying the errno.
Napi::Error RingError(Napi::Env env, const std::runtime_error& e, int errnum) {
  Napi::Error err = Napi::Error::New(env, e.what());
  err.Set("errno", Napi::Number::New(env, errnum));
  return err;
}

}  // namespace

Napi::Function Capture::Define(Napi::Env env) {
  return DefineClass(env, "Capture", {
    InstanceMethod<&Capture::Start>("start"),
    InstanceMethod<&Capture::StartWriter>("startWriter"),
    InstanceMethod<&Capture::WriterStats>("writerStats"),
    InstanceMethod<&Capture::Take>("take"),
    InstanceMethod<&Capture::Give>("give"),
    InstanceMethod<&Capture::Finish>("finish"),
    InstanceMethod<&Capture::Wait>("wait"),
    InstanceMethod<&Capture::Stats>("stats"),
    InstanceMethod<&Capture::SocketError>("socketError"),
    InstanceMethod<&Capture::RejectAll>("rejectAll"),
    InstanceMethod<&Capture::ReplaceFilter>("replaceFilter"),
    InstanceMethod<&Capture::Close>("close"),
    InstanceAccessor<&Capture::BlockRoom>("blockRoom"),
    InstanceAccessor<&Capture::MaxPackets>("maxPacketsPerBlock"),
    InstanceAccessor<&Capture::BlockCount>("blockCount"),
    InstanceAccessor<&Capture::ChunkCount>("chunkCount"),
    InstanceAccessor<&Capture::Closed>("closed"),
    InstanceAccessor<&Capture::Ended>("ended"),
  });
}

Capture::Capture(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Capture>(info), ctx_(info.Env(), "netkit:capture") {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsObject()) throw Napi::TypeError::New(env, std::string("usage: ") + kUsage);
  Napi::Object o = info[0].As<Napi::Object>();
  RingOptions ro;
  Napi::Value ifx = o.Get("ifindex");
  if (!ifx.IsNumber()) throw Napi::TypeError::New(env, std::string("ifindex must be a number; usage: ") + kUsage);
  ro.ifindex = ifx.As<Napi::Number>().Int32Value();
  ro.snaplen = optU32(o, "snaplen", 262144);
  ro.promisc = optBool(o, "promisc", true);
  // The ring size has one default, DEFAULT_BUFFER_BYTES in src/capture/live-capture.ts.
  Napi::Value bytes = o.Get("bufferBytes");
  if (!bytes.IsNumber()) throw Napi::TypeError::New(env, std::string("bufferBytes must be a number; usage: ") + kUsage);
  ro.bufferBytes = bytes.As<Napi::Number>().Uint32Value();
  ro.blockTimeoutMs = optU32(o, "blockTimeoutMs", 50);
  ro.fanout = optU32(o, "fanout", 0);
  ro.cooked = optBool(o, "cooked", false);
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
    throw RingError(env, e, ring_.lastErrno);
  }
}

// start(chunks, counts, layout): chunks is an array of [data: Buffer, offset:
// Uint32Array, capLen: Uint32Array, origLen: Uint32Array, tsSec: Float64Array, tsNsec:
// Uint32Array], each with room for one ring block (blockRoom bytes, maxPacketsPerBlock
// packets); counts[k] receives chunk k's packet count. Every chunk starts out free.
Napi::Value Capture::Start(const Napi::CallbackInfo& info) {
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

void Capture::EndThread() {
  {
    std::lock_guard<std::mutex> l(mu_);
    ended_ = true;
  }
  uv_async_send(async_);
}

// The eventfd that wakes the thread's poll, the uv_async that wakes JS, then the thread.
void Capture::StartThread(Napi::Env env, std::function<void()> body) {
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

// wait(callback): calls callback() once, on the JS thread, when a chunk is filled or the thread
// ended (at once if either is so already). Only while a wait is pending does the capture hold
// the callback, and keep the process alive; otherwise an abandoned capture can be collected.
Napi::Value Capture::Wait(const Napi::CallbackInfo& info) {
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

void Capture::OnAsync(uv_async_t* handle) {
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
Napi::Value Capture::Take(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> l(mu_);
  if (filled_.empty()) return Napi::Number::New(info.Env(), -1);
  int k = filled_.front();
  filled_.pop_front();
  return Napi::Number::New(info.Env(), k);
}

// give(k): chunk k is free for the thread to fill again.
Napi::Value Capture::Give(const Napi::CallbackInfo& info) {
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
Napi::Value Capture::Finish(const Napi::CallbackInfo& info) {
  {
    std::lock_guard<std::mutex> l(mu_);
    finishing_ = true;
  }
  Wake();
  return info.Env().Undefined();
}

// True once the thread has ended and every filled chunk was taken; `failed` when the socket
// failed (see socketError()).
Napi::Value Capture::Ended(const Napi::CallbackInfo& info) {
  std::lock_guard<std::mutex> l(mu_);
  Napi::Env env = info.Env();
  if (!ended_ || !filled_.empty()) return Napi::Boolean::New(env, false);
  if (failed_ || threadErrno_ != 0) return Napi::String::New(env, "failed");
  return Napi::Boolean::New(env, true);
}

void Capture::Wake() {
  if (wakeFd_ >= 0) {
    uint64_t one = 1;
    (void)!::write(wakeFd_, &one, sizeof one);
  }
}

// A program from JS: a Buffer of 8-byte struct sock_filter entries in host byte order.
std::vector<sock_filter> Capture::Program(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsBuffer()) throw Napi::TypeError::New(env, std::string(what) + ": the program must be a Buffer of 8-byte struct sock_filter entries");
  auto b = v.As<Napi::Buffer<uint8_t>>();
  if (b.Length() == 0 || b.Length() % sizeof(sock_filter) != 0 || b.Length() / sizeof(sock_filter) > BPF_MAXINSNS)
    throw Napi::TypeError::New(env, std::string(what) + ": the program must hold 1 to 4096 instructions of 8 bytes");
  std::vector<sock_filter> prog(b.Length() / sizeof(sock_filter));
  std::memcpy(prog.data(), b.Data(), b.Length());
  return prog;
}

// replaceFilter(program: Buffer): attaches without the swap (the caller has drained the ring).
Napi::Value Capture::ReplaceFilter(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<sock_filter> prog = Program(env, info[0], "replaceFilter");
  try {
    ring_.replaceFilter(prog);
  } catch (const std::runtime_error& e) {
    throw RingError(env, e, ring_.lastErrno);
  }
  return env.Undefined();
}

Napi::Value Capture::RejectAll(const Napi::CallbackInfo& info) {
  try {
    ring_.rejectAll();
  } catch (const std::runtime_error& e) {
    throw Napi::Error::New(info.Env(), e.what());
  }
  return info.Env().Undefined();
}

Napi::Value Capture::Stats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  netkit::RingStats s = ring_.stats();
  Napi::Object o = Napi::Object::New(env);
  o.Set("received", Napi::Number::New(env, static_cast<double>(s.received)));
  o.Set("dropped", Napi::Number::New(env, static_cast<double>(s.dropped)));
  o.Set("freezes", Napi::Number::New(env, static_cast<double>(s.freezes)));
  return o;
}

Napi::Value Capture::Close(const Napi::CallbackInfo& info) {
  Shutdown();
  return info.Env().Undefined();
}

// Stops and joins the thread before the ring is unmapped; the async handle is freed in its close
// callback, after libuv is done with it. Safe to call twice and from the finalizer.
void Capture::Shutdown() {
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

}  // namespace netkit
