// PacketRing: one AF_PACKET socket with a TPACKET_V3 receive ring, set up the way libpcap's Linux
// backend does (pcap-linux.c): socket with protocol 0, ring, bind to the ifindex, membership,
// filter. Only the kernel-facing parts live here; everything else is TypeScript.
// See: packet(7), Documentation/networking/packet_mmap.rst.
#pragma once

#include <linux/filter.h>
#include <sys/uio.h>
#include <linux/if_packet.h>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace netkit {

/** Which packets to keep, by direction (tcpdump -Q). */
enum class Direction { InOut = 0, In = 1, Out = 2 };

/** What open() needs. */
struct RingOptions {
  int ifindex = 0;          // 0 = every interface ("any"): cooked SOCK_DGRAM, LINUX_SLL2 headers
  bool cooked = false;      // SOCK_DGRAM + LINUX_SLL2 also for one interface (non-Ethernet links)
  uint32_t snaplen = 262144;
  bool promisc = true;
  uint32_t bufferBytes = 0;  // required: the one default is DEFAULT_BUFFER_BYTES (src/capture/live-capture.ts)
  uint32_t blockTimeoutMs = 50;
  Direction direction = Direction::InOut;
  // The loopback device's index: its outgoing copies are skipped, as each packet comes back in.
  int loopbackIfindex = -1;
  // Attached before bind(): the socket sees no packet until then, so no swap is needed.
  std::vector<sock_filter> filter;
  // PACKET_FANOUT argument, 0 for none: group id in bits 0-15, mode and flags in bits 16-31
  // (PACKET_FANOUT_FLAG_DEFRAG is bit 31, so the value is unsigned 32-bit). See: packet(7).
  uint32_t fanout = 0;
};

/**
 * How packet bytes are laid out in the batch buffer: plain (each packet at an 8-byte aligned
 * offset), or as classic pcap records (pcap-savefile(5): a 16-byte little-endian header with µs
 * or ns timestamps, then the bytes, back to back), so a file writer appends a run of records with
 * one copy and no per-packet work; or as pcapng Enhanced Packet Blocks for interface 0
 * (draft-ietf-opsawg-pcapng: 28-byte header, bytes padded to 4, trailing length), likewise.
 */
enum class Layout { Plain = 0, PcapMicro = 1, PcapNano = 2, PcapngMicro = 3, PcapngNano = 4 };

/** Per-packet metadata arrays the caller owns (a RecordBatch's arrays). */
struct BatchArrays {
  uint8_t* data; size_t dataLen;
  uint32_t* offset; uint32_t* capLen; uint32_t* origLen;
  double* tsSec; uint32_t* tsNsec;
  size_t capacity;
  Layout layout;
};

/** Counters since open (the kernel clears PACKET_STATISTICS on each read, so they are summed). */
struct RingStats { uint64_t received = 0; uint64_t dropped = 0; uint64_t freezes = 0; };

/** An open capture socket and its mmap'ed ring. Throws std::runtime_error with errno text. */
class PacketRing {
 public:
  PacketRing() = default;
  ~PacketRing();
  PacketRing(const PacketRing&) = delete;
  PacketRing& operator=(const PacketRing&) = delete;

  /** Opens and binds; on failure throws with `errno_` set to the failing call's errno. */
  void open(const RingOptions& o);
  /** Copies ready blocks into `a` until none is ready or the next does not fit; returns packets. */
  size_t read(const BatchArrays& a, size_t* bytesUsed);
  /**
   * Turns the ready block `index` into classic pcap records where they lie (µs or ns per
   * `layout`, 1 or 2): each record header, and the VLAN tag or LINUX_SLL2 header netkit adds, is
   * written into the ring's own headroom before the packet (the tpacket3_hdr and sockaddr_ll
   * already read), so one writev() of `iov` puts up to IOV_MAX records in the file with no copy in
   * user space. At most `limit` packets; the block stays user-owned until releaseAt().
   */
  size_t prepareInPlace(uint32_t index, Layout layout, size_t limit, std::vector<iovec>& iov, size_t* recordBytes, uint64_t* capturedBytes);
  /** Mean bytes per packet in the ready block `index` (ring bytes, headers included). */
  size_t blockMeanPacket(uint32_t index) const;
  /**
   * Block-indexed access, for a reader that hands blocks to another thread (the cursor is not
   * used): readiness, whether a block's output fits a batch, copying it (read()'s layout), release.
   * Blocks may go back to the kernel out of order.
   */
  bool readyAt(uint32_t index) const;
  bool fits(uint32_t index, const BatchArrays& a, size_t count, size_t used) const;
  void copyBlock(uint32_t index, const BatchArrays& a, size_t* count, size_t* used);
  void releaseAt(uint32_t index);
  /** True when the block at the cursor is ready (user-owned). */
  bool ready() const { return readyAt(cursor_); }
  /** Attaches a program as it is (no swap): for a ring the caller drains itself. */
  void replaceFilter(const std::vector<sock_filter>& program);
  /** Attaches a reject-all filter: nothing more enters the ring, so a stop can drain it exactly. */
  void rejectAll();
  /** The socket's pending error (SO_ERROR, e.g. ENETDOWN when the interface went away), cleared. */
  int socketError();
  /** Reads PACKET_STATISTICS and adds it to the running totals. */
  RingStats stats();
  /** Closes the socket and unmaps the ring; safe to call twice. */
  void close();

  int fd() const { return fd_; }
  uint32_t blockCount() const { return blockNr_; }
  uint32_t blockSize() const { return blockSize_; }
  uint32_t cursor() const { return cursor_; }
  bool cooked() const { return cooked_; }
  /** Largest room read() may need for one block (block bytes plus header growth). */
  size_t blockRoom() const { return blockSize_ + maxPacketsPerBlock() * kPacketGrowth; }
  /** Most bytes one packet's output may exceed its ring bytes by: EPB header and trailer + SLL2 header + padding. */
  static constexpr size_t kPacketGrowth = 32 + 20 + 8;
  size_t maxPacketsPerBlock() const { return blockSize_ / 64 + 1; }
  int lastErrno = 0;

 private:
  void fail(const char* what);
  void releaseBlock();
  void attach(const std::vector<sock_filter>& program);
  bool keep(const sockaddr_ll* sll) const;
  tpacket_block_desc* block(uint32_t index) const { return reinterpret_cast<tpacket_block_desc*>(map_ + static_cast<size_t>(index) * blockSize_); }

  int fd_ = -1;
  bool cooked_ = false;
  uint8_t* map_ = nullptr;
  size_t mapLen_ = 0;
  uint32_t blockSize_ = 0;
  uint32_t blockNr_ = 0;
  uint32_t cursor_ = 0;
  uint32_t snaplen_ = 0;
  Direction direction_ = Direction::InOut;
  int loopbackIfindex_ = -1;
  RingStats totals_;
};

}  // namespace netkit
