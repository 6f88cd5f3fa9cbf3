// PacketRing implementation. Order and details follow libpcap's pcap-linux.c (activate_pf_packet,
// setup_mmapped, pcap_read_linux_mmap_v3) and the kernel's packet_mmap documentation.
#include "packet-ring.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <stdexcept>

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING 23  // Linux 4.20+
#endif

namespace netkit {

namespace {
constexpr uint32_t kVlanTagLen = 4;
constexpr uint32_t kSll2Len = 20;  // LINKTYPE_LINUX_SLL2 header, https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html

inline void put16(uint8_t* p, uint16_t v) { p[0] = v >> 8; p[1] = v & 0xff; }
inline void put32(uint8_t* p, uint32_t v) { p[0] = v >> 24; p[1] = (v >> 16) & 0xff; p[2] = (v >> 8) & 0xff; p[3] = v & 0xff; }
inline void put32le(uint8_t* p, uint32_t v) { p[0] = v & 0xff; p[1] = (v >> 8) & 0xff; p[2] = (v >> 16) & 0xff; p[3] = v >> 24; }
}  // namespace

PacketRing::~PacketRing() { close(); }

void PacketRing::fail(const char* what) {
  lastErrno = errno;
  std::string msg = std::string(what) + ": " + std::strerror(lastErrno);
  close();
  throw std::runtime_error(msg);
}

void PacketRing::open(const RingOptions& o) {
  snaplen_ = o.snaplen == 0 ? 262144 : o.snaplen;
  direction_ = o.direction;
  loopbackIfindex_ = o.loopbackIfindex;
  cooked_ = o.ifindex == 0 || o.cooked;
  // Protocol 0: the socket receives nothing until bind() names the interface and ETH_P_ALL, so no
  // packet from another interface slips into the ring first (pcap-linux.c does the same).
  fd_ = ::socket(AF_PACKET, (cooked_ ? SOCK_DGRAM : SOCK_RAW) | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) fail("socket(AF_PACKET)");

  int version = TPACKET_V3;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) fail("setsockopt(PACKET_VERSION, TPACKET_V3)");

  // 256 KiB blocks, as libpcap makes them (its frame size is the largest snaplen): big enough for
  // a GRO'd 64 KiB skb, and many of them in a ring (128 in the default 32 MiB, 16 in tcpdump's
  // -B 4096), so that a reader which holds a few blocks (a file write in progress) leaves the
  // kernel most of the ring. At least 2 blocks, so one can fill while JS reads one.
  const uint32_t page = static_cast<uint32_t>(::sysconf(_SC_PAGESIZE));
  uint32_t block = 256u << 10;
  block = (block + page - 1) / page * page;
  uint32_t nr = o.bufferBytes / block;
  if (nr < 2) nr = 2;
  const uint32_t frame = 2048;  // V3 frames are variable; the kernel only checks the arithmetic
  tpacket_req3 req{};
  req.tp_block_size = block;
  req.tp_block_nr = nr;
  req.tp_frame_size = frame;
  req.tp_frame_nr = (block / frame) * nr;
  req.tp_retire_blk_tov = o.blockTimeoutMs;  // a partly filled block is handed over after this
  req.tp_feature_req_word = 0;
  if (::setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) < 0) fail("setsockopt(PACKET_RX_RING)");
  blockSize_ = block;
  blockNr_ = nr;
  mapLen_ = static_cast<size_t>(block) * nr;
  void* m = ::mmap(nullptr, mapLen_, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
  if (m == MAP_FAILED) { map_ = nullptr; fail("mmap(ring)"); }
  map_ = static_cast<uint8_t*>(m);

  if (!o.filter.empty()) attach(o.filter);

  sockaddr_ll sll{};
  sll.sll_family = AF_PACKET;
  sll.sll_protocol = htons(ETH_P_ALL);
  sll.sll_ifindex = o.ifindex;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) < 0) fail("bind(AF_PACKET)");

  // Fan-out joins a group after bind (the kernel needs the socket's device and protocol); a
  // group that exists with another mode, flags or interface refuses with EINVAL. See: packet(7).
  if (o.fanout != 0) {
    uint32_t arg = o.fanout;
    if (::setsockopt(fd_, SOL_PACKET, PACKET_FANOUT, &arg, sizeof arg) < 0) fail("setsockopt(PACKET_FANOUT)");
  }

  // A membership, not IFF_PROMISC: the kernel drops it when the socket closes, even on SIGKILL.
  if (o.promisc && o.ifindex != 0) {
    packet_mreq mr{};
    mr.mr_ifindex = o.ifindex;
    mr.mr_type = PACKET_MR_PROMISC;
    if (::setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) < 0) fail("setsockopt(PACKET_ADD_MEMBERSHIP, PACKET_MR_PROMISC)");
  }
  if (direction_ == Direction::In) {
    int one = 1;  // kernel-side when available; read() also checks sll_pkttype for older kernels
    (void)::setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
  }
}

bool PacketRing::readyAt(uint32_t index) const {
  if (map_ == nullptr) return false;
  return (__atomic_load_n(&block(index)->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER) != 0;
}

void PacketRing::releaseAt(uint32_t index) {
  __atomic_store_n(&block(index)->hdr.bh1.block_status, static_cast<uint32_t>(TP_STATUS_KERNEL), __ATOMIC_RELEASE);
}

void PacketRing::releaseBlock() {
  releaseAt(cursor_);
  cursor_ = (cursor_ + 1) % blockNr_;
}

size_t PacketRing::read(const BatchArrays& a, size_t* bytesUsed) {
  size_t count = 0, used = 0;
  while (ready()) {
    // Whole blocks only, so each goes back to the kernel as soon as it is copied.
    if (!fits(cursor_, a, count, used)) {
      if (count == 0) throw std::runtime_error("read: the batch is smaller than one ring block");
      break;
    }
    copyBlock(cursor_, a, &count, &used);
    releaseBlock();
  }
  *bytesUsed = used;
  return count;
}

bool PacketRing::fits(uint32_t index, const BatchArrays& a, size_t count, size_t used) const {
  const auto* bd = block(index);
  const uint32_t n = bd->hdr.bh1.num_pkts;
  return count + n <= a.capacity && used + bd->hdr.bh1.blk_len + static_cast<size_t>(n) * kPacketGrowth <= a.dataLen;
}

void PacketRing::copyBlock(uint32_t index, const BatchArrays& a, size_t* countIo, size_t* usedIo) {
  auto* bd = block(index);
  const uint32_t n = bd->hdr.bh1.num_pkts;
  const bool pcapng = a.layout == Layout::PcapngMicro || a.layout == Layout::PcapngNano;
  const size_t header = a.layout == Layout::Plain ? 0 : pcapng ? 28 : 16;
  auto* h = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<uint8_t*>(bd) + bd->hdr.bh1.offset_to_first_pkt);
  for (uint32_t i = 0; i < n; i++) {
    auto* sll = reinterpret_cast<const sockaddr_ll*>(reinterpret_cast<uint8_t*>(h) + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
    if (keep(sll)) {
      const uint8_t* frame = reinterpret_cast<uint8_t*>(h) + h->tp_mac;
      uint32_t cap = h->tp_snaplen, orig = h->tp_len;
      uint8_t* rec = a.data + *usedIo;
      uint8_t* dst = rec + header;
      uint32_t out = 0;
      if (cooked_) {
        std::memcpy(dst, &sll->sll_protocol, 2);  // already in network order
        put16(dst + 2, 0);
        put32(dst + 4, static_cast<uint32_t>(sll->sll_ifindex));
        put16(dst + 8, sll->sll_hatype);
        dst[10] = sll->sll_pkttype;
        dst[11] = sll->sll_halen > 8 ? 8 : sll->sll_halen;
        std::memset(dst + 12, 0, 8);
        std::memcpy(dst + 12, sll->sll_addr, dst[11]);
        std::memcpy(dst + kSll2Len, frame, cap);
        out = kSll2Len + cap;
        orig += kSll2Len;
      } else if (((h->tp_status & TP_STATUS_VLAN_VALID) || h->hv1.tp_vlan_tci != 0) && cap >= 12) {
        // (Kernels before 3.0 set the TCI without TP_STATUS_VLAN_VALID; libpcap checks both.)
        // The kernel strips the outer 802.1Q tag into metadata; put it back after the MACs as
        // libpcap does, so the file shows the frame as it was on the wire.
        const uint16_t tpid = (h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
        std::memcpy(dst, frame, 12);
        put16(dst + 12, tpid);
        put16(dst + 14, static_cast<uint16_t>(h->hv1.tp_vlan_tci));
        std::memcpy(dst + 12 + kVlanTagLen, frame + 12, cap - 12);
        out = cap + kVlanTagLen;
        orig += kVlanTagLen;
      } else {
        std::memcpy(dst, frame, cap);
        out = cap;
      }
      if (out > snaplen_) out = snaplen_;
      a.offset[*countIo] = static_cast<uint32_t>(*usedIo + header);
      a.capLen[*countIo] = out;
      a.origLen[*countIo] = orig;
      a.tsSec[*countIo] = h->tp_sec;
      a.tsNsec[*countIo] = h->tp_nsec;
      if (a.layout == Layout::Plain) {
        *usedIo += (out + 7) & ~7u;
      } else if (pcapng) {
        // EPB: type 6, total length, interface 0, 64-bit timestamp in if_tsresol units (high
        // word first), captured and original lengths, bytes padded to 4, total length again.
        const uint64_t ts = a.layout == Layout::PcapngNano
            ? static_cast<uint64_t>(h->tp_sec) * 1000000000u + h->tp_nsec
            : static_cast<uint64_t>(h->tp_sec) * 1000000u + h->tp_nsec / 1000;
        const uint32_t padded = (out + 3) & ~3u;
        const uint32_t total = 32 + padded;
        put32le(rec, 6);
        put32le(rec + 4, total);
        put32le(rec + 8, 0);
        put32le(rec + 12, static_cast<uint32_t>(ts >> 32));
        put32le(rec + 16, static_cast<uint32_t>(ts));
        put32le(rec + 20, out);
        put32le(rec + 24, orig);
        std::memset(dst + out, 0, padded - out);
        put32le(dst + padded, total);
        *usedIo += total;
      } else {
        put32le(rec, h->tp_sec);
        put32le(rec + 4, a.layout == Layout::PcapNano ? h->tp_nsec : h->tp_nsec / 1000);
        put32le(rec + 8, out);
        put32le(rec + 12, orig);
        *usedIo += header + out;
      }
      (*countIo)++;
    }
    h = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<uint8_t*>(h) + h->tp_next_offset);
  }
}

bool PacketRing::keep(const sockaddr_ll* sll) const {
  const bool outgoing = sll->sll_pkttype == PACKET_OUTGOING;
  // As libpcap's linux_check_direction: a packet sent on loopback is also received there, so its
  // outgoing copy is dropped to show it once; then the -Q direction.
  return (!outgoing || sll->sll_ifindex != loopbackIfindex_) &&
         (direction_ == Direction::InOut || (direction_ == Direction::In ? !outgoing : outgoing));
}

size_t PacketRing::blockMeanPacket(uint32_t index) const {
  const auto* bd = block(index);
  const uint32_t n = bd->hdr.bh1.num_pkts;
  return n == 0 ? 0 : bd->hdr.bh1.blk_len / n;
}

size_t PacketRing::prepareInPlace(uint32_t index, Layout layout, size_t limit, std::vector<iovec>& iov, size_t* recordBytes, uint64_t* capturedBytes) {
  auto* bd = block(index);
  const uint32_t n = bd->hdr.bh1.num_pkts;
  auto* h = reinterpret_cast<tpacket3_hdr*>(reinterpret_cast<uint8_t*>(bd) + bd->hdr.bh1.offset_to_first_pkt);
  size_t count = 0;
  for (uint32_t i = 0; i < n && count < limit; i++) {
    uint8_t* base = reinterpret_cast<uint8_t*>(h);
    const uint32_t next = h->tp_next_offset;
    const auto* sll = reinterpret_cast<const sockaddr_ll*>(base + TPACKET_ALIGN(sizeof(tpacket3_hdr)));
    if (keep(sll)) {
      // Everything the record needs is read before the headroom is written over.
      const sockaddr_ll addr = *sll;
      const uint32_t mac = h->tp_mac, cap = h->tp_snaplen, sec = h->tp_sec, nsec = h->tp_nsec, status = h->tp_status;
      const uint16_t tci = static_cast<uint16_t>(h->hv1.tp_vlan_tci);
      const uint16_t tpid = (status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q;
      uint32_t orig = h->tp_len;
      // The kernel puts the frame at least TPACKET3_HDRLEN (68) bytes in; 16 + 20 are needed.
      if (mac < 16 + kSll2Len) throw std::runtime_error("prepareInPlace: no headroom before the packet");
      uint8_t* frame = base + mac;
      uint8_t* start = frame;
      uint32_t out = cap;
      if (cooked_) {
        start = frame - kSll2Len;
        std::memcpy(start, &addr.sll_protocol, 2);
        put16(start + 2, 0);
        put32(start + 4, static_cast<uint32_t>(addr.sll_ifindex));
        put16(start + 8, addr.sll_hatype);
        start[10] = addr.sll_pkttype;
        start[11] = addr.sll_halen > 8 ? 8 : addr.sll_halen;
        std::memset(start + 12, 0, 8);
        std::memcpy(start + 12, addr.sll_addr, start[11]);
        out = cap + kSll2Len;
        orig += kSll2Len;
      } else if (((status & TP_STATUS_VLAN_VALID) || tci != 0) && cap >= 12) {
        start = frame - kVlanTagLen;
        std::memmove(start, frame, 12);
        put16(start + 12, tpid);
        put16(start + 14, tci);
        out = cap + kVlanTagLen;
        orig += kVlanTagLen;
      }
      if (out > snaplen_) out = snaplen_;
      uint8_t* rec = start - 16;
      put32le(rec, sec);
      put32le(rec + 4, layout == Layout::PcapNano ? nsec : nsec / 1000);
      put32le(rec + 8, out);
      put32le(rec + 12, orig);
      iov.push_back(iovec{rec, 16 + static_cast<size_t>(out)});
      *recordBytes += 16 + static_cast<size_t>(out);
      *capturedBytes += out;
      count++;
    }
    h = reinterpret_cast<tpacket3_hdr*>(base + next);
  }
  return count;
}

void PacketRing::attach(const std::vector<sock_filter>& program) {
  sock_fprog prog{static_cast<unsigned short>(program.size()), const_cast<sock_filter*>(program.data())};
  if (::setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &prog, sizeof prog) < 0) {
    lastErrno = errno;
    throw std::runtime_error(std::string("setsockopt(SO_ATTACH_FILTER): ") + std::strerror(lastErrno));
  }
}

void PacketRing::replaceFilter(const std::vector<sock_filter>& program) {
  if (fd_ < 0) throw std::runtime_error("replaceFilter: the capture is closed");
  attach(program);
}

void PacketRing::rejectAll() {
  if (fd_ >= 0) attach({BPF_STMT(BPF_RET | BPF_K, 0)});
}

int PacketRing::socketError() {
  if (fd_ < 0) return 0;
  int err = 0;
  socklen_t len = sizeof err;
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) < 0) return errno;
  return err;
}

RingStats PacketRing::stats() {
  if (fd_ >= 0) {
    tpacket_stats_v3 s{};
    socklen_t len = sizeof s;
    // The kernel zeroes these on every read (packet(7)), so keep running totals.
    if (::getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &s, &len) == 0) {
      totals_.received += s.tp_packets;
      totals_.dropped += s.tp_drops;
      totals_.freezes += s.tp_freeze_q_cnt;
    }
  }
  return totals_;
}

void PacketRing::close() {
  if (map_ != nullptr) { ::munmap(map_, mapLen_); map_ = nullptr; }
  if (fd_ >= 0) { ::close(fd_); fd_ = -1; }
}

}  // namespace netkit
