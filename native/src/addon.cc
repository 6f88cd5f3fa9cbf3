// The JS face of PacketRing: a `Capture` class. Packets reach JS a ring block (or several) at a
// time through read(), which copies into the caller's RecordBatch arrays; readiness comes from a
// uv_poll on the socket, one JS call per wake-up, never one per packet (serialport's Poller model).
#include <napi.h>
#include <uv.h>

#include <cstring>
#include <memory>
#include <stdexcept>

#include "packet-ring.h"

namespace {

using netkit::BatchArrays;
using netkit::Direction;
using netkit::PacketRing;
using netkit::RingOptions;

const char* kUsage =
    "new Capture({ ifindex: number, snaplen?: number, promisc?: boolean, bufferBytes?: number, "
    "blockTimeoutMs?: number, direction?: 0|1|2, cooked?: boolean, filter?: Buffer, loopbackIfindex?: number })";

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

class Capture : public Napi::ObjectWrap<Capture> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Capture", {
      InstanceMethod<&Capture::Read>("read"),
      InstanceMethod<&Capture::Ready>("ready"),
      InstanceMethod<&Capture::Wait>("wait"),
      InstanceMethod<&Capture::SetFilter>("setFilter"),
      InstanceMethod<&Capture::Stats>("stats"),
      InstanceMethod<&Capture::SocketError>("socketError"),
      InstanceMethod<&Capture::RejectAll>("rejectAll"),
      InstanceMethod<&Capture::ReplaceFilter>("replaceFilter"),
      InstanceMethod<&Capture::Close>("close"),
      InstanceAccessor<&Capture::BlockRoom>("blockRoom"),
      InstanceAccessor<&Capture::MaxPackets>("maxPacketsPerBlock"),
      InstanceAccessor<&Capture::Closed>("closed"),
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
  // read(data, offset, capLen, origLen, tsSec, tsNsec, layout?) -> packets copied (0 when no block is ready).
  Napi::Value Read(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 6 || !info[0].IsBuffer() || !info[1].IsTypedArray() || !info[2].IsTypedArray() ||
        !info[3].IsTypedArray() || !info[4].IsTypedArray() || !info[5].IsTypedArray())
      throw Napi::TypeError::New(env, "usage: read(data: Buffer, offset: Uint32Array, capLen: Uint32Array, origLen: Uint32Array, tsSec: Float64Array, tsNsec: Uint32Array)");
    auto data = info[0].As<Napi::Buffer<uint8_t>>();
    auto u32 = [&](int i) {
      auto t = info[i].As<Napi::TypedArray>();
      if (t.TypedArrayType() != napi_uint32_array) throw Napi::TypeError::New(env, "read: metadata arrays must be Uint32Array");
      return t.As<Napi::Uint32Array>();
    };
    auto off = u32(1), cap = u32(2), orig = u32(3), nsec = u32(5);
    auto secT = info[4].As<Napi::TypedArray>();
    if (secT.TypedArrayType() != napi_float64_array) throw Napi::TypeError::New(env, "read: tsSec must be a Float64Array");
    auto sec = secT.As<Napi::Float64Array>();
    size_t capacity = off.ElementLength();
    for (size_t n : {cap.ElementLength(), orig.ElementLength(), sec.ElementLength(), nsec.ElementLength()}) capacity = std::min(capacity, n);
    uint32_t layout = info.Length() > 6 && info[6].IsNumber() ? info[6].As<Napi::Number>().Uint32Value() : 0;
    if (layout > 4) throw Napi::TypeError::New(env, "read: layout must be 0 (plain), 1 (pcap, µs), 2 (pcap, ns), 3 (pcapng, µs) or 4 (pcapng, ns)");
    BatchArrays a{data.Data(), data.Length(), off.Data(), cap.Data(), orig.Data(), sec.Data(), nsec.Data(), capacity, static_cast<netkit::Layout>(layout)};
    size_t used = 0;
    try {
      return Napi::Number::New(env, static_cast<double>(ring_.read(a, &used)));
    } catch (const std::runtime_error& e) {
      throw Napi::Error::New(env, e.what());
    }
  }

  Napi::Value Ready(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ring_.ready()); }

  // wait(callback): calls callback(status, events) once when the socket is readable (a block was
  // retired) or in error, then stops watching until the next wait().
  Napi::Value Wait(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsFunction()) throw Napi::TypeError::New(env, "usage: wait(callback: (status: number, events: number) => void)");
    if (ring_.fd() < 0) throw Napi::Error::New(env, "wait: the capture is closed");
    callback_ = Napi::Persistent(info[0].As<Napi::Function>());
    if (poll_ == nullptr) {
      uv_loop_t* loop = nullptr;
      if (napi_get_uv_event_loop(env, &loop) != napi_ok) throw Napi::Error::New(env, "wait: no event loop");
      poll_ = new uv_poll_t;
      int r = uv_poll_init(loop, poll_, ring_.fd());
      if (r != 0) { delete poll_; poll_ = nullptr; throw Napi::Error::New(env, std::string("uv_poll_init: ") + uv_strerror(r)); }
      poll_->data = this;
    }
    int r = uv_poll_start(poll_, UV_READABLE | UV_DISCONNECT, &Capture::OnPoll);
    if (r != 0) throw Napi::Error::New(env, std::string("uv_poll_start: ") + uv_strerror(r));
    return env.Undefined();
  }

  static void OnPoll(uv_poll_t* handle, int status, int events) {
    auto* self = static_cast<Capture*>(handle->data);
    if (self == nullptr) return;
    uv_poll_stop(handle);
    if (self->callback_.IsEmpty()) return;
    Napi::Env env = self->Env();
    Napi::HandleScope scope(env);
    Napi::Function cb = self->callback_.Value();
    self->callback_.Reset();
    try {
      cb.MakeCallback(env.Global(), {Napi::Number::New(env, status), Napi::Number::New(env, events)}, self->ctx_);
    } catch (const Napi::Error& e) {
      napi_fatal_exception(env, e.Value());  // surfaces as 'uncaughtException', like any callback's throw
    }
  }

  // setFilter(program: Buffer of struct sock_filter, 8 bytes each, host byte order).
  Napi::Value SetFilter(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (info.Length() < 1 || !info[0].IsBuffer()) throw Napi::TypeError::New(env, "usage: setFilter(program: Buffer) with 8-byte struct sock_filter entries");
    std::vector<sock_filter> prog = Program(env, info[0], "setFilter");
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
  Napi::Value Closed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), ring_.fd() < 0); }

  // Stops the poll before the fd closes (libuv forbids closing a polled fd); the handle is freed
  // in its close callback, after libuv is done with it. Safe to call twice and from the finalizer.
  void Shutdown() {
    if (poll_ != nullptr) {
      poll_->data = nullptr;
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    callback_.Reset();
    ring_.close();
  }

  PacketRing ring_;
  uv_poll_t* poll_ = nullptr;
  Napi::FunctionReference callback_;
  Napi::AsyncContext ctx_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", Capture::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netkit_capture, Init)
