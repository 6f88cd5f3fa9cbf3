// WriterPolicy: every number that tunes the addon's pcap file writer (file-writer.cc), with the
// reason for each. The measurements behind them are in docs/performance.md ("Capture to file").
#pragma once

#include <limits.h>

#include <cstddef>

namespace netkit {

struct WriterPolicy {
  // The least a gathered write aims for: one write() per MiB. Fewer, larger writes cost less
  // per packet, and a MiB is still a small part of any ring worth gathering in.
  static constexpr size_t kWriteBytes = 1u << 20;
  // Rings of this many blocks or more gather records across blocks (a block's tail waits for
  // the next block's head). A MiB-sized write holds the blocks its records are in while it runs,
  // and the kernel fills the ring in order; in smaller rings (4 blocks of 1 MiB) a held tail
  // left the kernel too few blocks during a stalled write and lost packets, so each in-place
  // block goes out at once there.
  static constexpr unsigned kGatherMinBlocks = 8;
  // Blocks whose packets average this many bytes or more are written in place (writev): so that
  // IOV_MAX records make a MiB. The ring has up to 96 bytes (tpacket3_hdr, sockaddr_ll,
  // alignment) before each frame where the record has its 16-byte header.
  static constexpr size_t kInPlaceMean = kWriteBytes / IOV_MAX + 96;
  // Buffers a consumer keeps beside the ring, each a block's size (the writer's spill buffers,
  // and the chunks JS lends the reader, through the addon's chunkCount): the ring's block count
  // plus two, at least kMinSpills (a small ring still needs slack while one write or a pause of
  // the JS thread lasts) and at most kMaxSpills (each costs a block's memory).
  static constexpr size_t kMinSpills = 4;
  static constexpr size_t kMaxSpills = 16;
  static constexpr size_t Buffers(size_t blocks) { return blocks + 2 < kMinSpills ? kMinSpills : blocks + 2 > kMaxSpills ? kMaxSpills : blocks + 2; }
  // How often the reader looks at the ring while it waits for a block the writer holds in place:
  // a stalled write must not keep later blocks waiting.
  static constexpr int kHeldBlockPollMs = 1;
  // The reader wakes the writer for every block at most this often when nothing else calls for
  // it (a futex call and a context switch per wake-up cost as much as a block's packets).
  static constexpr int kWakeWriterMs = 100;
  // The writer looks for queued blocks at least this often on its own, and writes what it has
  // gathered after this long without a new block.
  static constexpr int kWriterIdleMs = 500;
};

}  // namespace netkit
