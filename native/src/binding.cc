// The capture addon's module: it exports the Capture class (capture.h) and the FileWindow class
// that maps capture files for reading (file-window.cc).
#include <napi.h>

#include "capture.h"

namespace netkit {
Napi::Function DefineFileWindow(Napi::Env env);
}  // namespace netkit

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Capture", netkit::Capture::Define(env));
  exports.Set("FileWindow", netkit::DefineFileWindow(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(netkit_capture, Init)
