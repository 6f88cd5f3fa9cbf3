{
  "target_defaults": {
    "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
    "defines": ["NAPI_VERSION=8", "NODE_ADDON_API_DISABLE_DEPRECATED", "NAPI_CPP_EXCEPTIONS"],
    "cflags!": ["-fno-exceptions"],
    "cflags_cc!": ["-fno-exceptions"],
    "cflags_cc": ["-std=c++17", "-O2", "-Wall", "-Wextra"]
  },
  "targets": [
    {
      "target_name": "netkit_capture",
      "sources": ["src/binding.cc", "src/capture.cc", "src/ring-reader.cc", "src/file-writer.cc", "src/packet-ring.cc", "src/file-window.cc"]
    },
    {
      "target_name": "netkit_socket",
      "sources": ["src/socket-options.cc"]
    }
  ]
}
