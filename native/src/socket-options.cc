// The socket addon: socket options Node does not offer, on sockets the caller owns. Kept apart
// from the capture addon, which does only what packet capture needs.
#include <napi.h>
#include <sys/socket.h>

#include <cerrno>

namespace {

// setRcvLowat(fd, bytes): SO_RCVLOWAT (socket(7)) on a socket the caller owns (netkit http's
// pipelined connections: a read wakes for a few responses at once, see src/http/read-batching.ts).
// Returns 0, or the errno.
Napi::Value SetRcvLowat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsNumber() || !info[1].IsNumber()) throw Napi::TypeError::New(env, "usage: setRcvLowat(fd: number, bytes: number)");
  const int fd = info[0].As<Napi::Number>().Int32Value();
  const int bytes = info[1].As<Napi::Number>().Int32Value();
  const int rc = ::setsockopt(fd, SOL_SOCKET, SO_RCVLOWAT, &bytes, sizeof bytes);
  return Napi::Number::New(env, rc == 0 ? 0 : errno);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("setRcvLowat", Napi::Function::New(env, SetRcvLowat, "setRcvLowat"));
  return exports;
}

}  // namespace

NODE_API_MODULE(netkit_socket, Init)
