// The capture addon's module: it exports the Capture class (capture.h) and nothing else.
#include <napi.h>

#include "capture.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", netkit::Capture::Define(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netkit_capture, Init)
