/**
 * The capture addon's surface (native/src/capture.h), declared by hand, and its loader. The addon
 * does only what needs the kernel; everything else about live capture is in this folder.
 */
import { join } from 'node:path'
import { addonCandidates, loadAddon, packageRoot, type AddonCandidate } from './addon-loader.js'
import { CaptureUnavailableError } from '../errors.js'

/** Options of the native Capture constructor. */
export interface NativeCaptureOptions {
  /** Interface index; 0 captures on every interface (cooked, LINUX_SLL2). */
  ifindex: number
  snaplen?: number
  /** Join PACKET_MR_PROMISC (default true). */
  promisc?: boolean
  /** Ring size in bytes (required: the one default is DEFAULT_BUFFER_BYTES in live-capture.ts). */
  bufferBytes: number
  /** How long a partly filled ring block waits before the kernel hands it over. */
  blockTimeoutMs?: number
  /** 0 inout, 1 in, 2 out. */
  direction?: 0 | 1 | 2
  /** SOCK_DGRAM with LINUX_SLL2 headers (forced for ifindex 0). */
  cooked?: boolean
  /** Classic BPF program (8-byte struct sock_filter entries) attached before bind. */
  filter?: Buffer
  /** Index of the loopback device, whose outgoing copies are skipped (each comes back in). */
  loopbackIfindex?: number
  /** PACKET_FANOUT argument (id | mode and flags << 16, unsigned 32-bit); see src/capture/fanout.ts. */
  fanout?: number
}

/** Kernel counters since the socket opened (summed: the kernel clears them on each read). */
export interface NativeStats {
  /** Packets the socket's filter accepted (tp_packets, counts drops too): tcpdump's "received by filter". */
  received: number
  /** Packets dropped because the ring was full (tp_drops). */
  dropped: number
  /** Times the ring was frozen (tp_freeze_q_cnt). */
  freezes: number
}

/** One open AF_PACKET socket with its TPACKET_V3 ring. */
export interface NativeCapture {
  /**
   * Starts the capture thread. Each chunk is one RecordBatch's arrays with room for one ring block
   * (blockRoom bytes, maxPacketsPerBlock packets); the thread copies each ready block into a free
   * chunk, laid out per `layout` (0 plain: each packet 8-byte aligned; 1 or 2: pcap records, µs or
   * ns; 3 or 4: pcapng EPBs of interface 0, µs or ns; records back to back), sets counts[k] to its
   * packets and returns the block to the kernel.
   */
  start(chunks: Array<[Buffer, Uint32Array, Uint32Array, Uint32Array, Float64Array, Uint32Array]>, counts: Uint32Array, layout: 0 | 1 | 2 | 3 | 4): void
  /**
   * Calls back once, on the JS thread, when a chunk is filled or the thread ended (at once if so
   * already). Only a pending wait keeps the process alive and the capture from being collected.
   */
  wait(callback: () => void): void
  /**
   * Starts the capture thread as the file's writer instead: it appends every ring block to the open
   * file `fd` as pcap (layout 1 µs, 2 ns) or pcapng EPB (3, 4) records, at most maxPackets (0: no
   * limit), and ends after finish(), close(), the limit, or a failed write (the file is then cut
   * back to its last whole record; it was fileBytes long at the start). wait() calls back at the end.
   */
  startWriter(fd: number, layout: 1 | 2 | 3 | 4, maxPackets: number, fileBytes: number): void
  /** What the writer thread wrote, and the errno of a failed write (0 if none). */
  writerStats(): { packets: number; capturedBytes: number; fileBytes: number; errno: number }
  /** The oldest filled chunk's index, or -1 when none is waiting. */
  take(): number
  /** Gives a taken chunk back to the thread. */
  give(chunk: number): void
  /** The thread hands over what the ring holds now, then ends. */
  finish(): void
  /** true once the thread ended and every filled chunk was taken; 'failed' if it ended because the socket failed. */
  readonly ended: boolean | 'failed'
  /** Number of blocks in the ring. */
  readonly blockCount: number
  /** How many chunks to lend start(): WriterPolicy::Buffers (native/src/writer-policy.h). */
  readonly chunkCount: number
  stats(): NativeStats
  /** Attaches a program without the swap (the caller drained the ring after rejectAll()). */
  replaceFilter(program: Buffer): void
  /** Attaches a reject-all filter: nothing more enters the ring (the first step of a clean stop). */
  rejectAll(): void
  /** The socket's pending errno (SO_ERROR; ENETDOWN when the interface went down or away), cleared by reading. */
  socketError(): number
  /** Stops the thread and closes the socket; safe twice (filled chunks not taken are dropped). */
  close(): void
  /** Bytes of `data` one ring block may need. */
  readonly blockRoom: number
  /** Most packets one ring block can hold. */
  readonly maxPacketsPerBlock: number
  readonly closed: boolean
}

/** The addon module. */
export interface NativeModule {
  Capture: new (options: NativeCaptureOptions) => NativeCapture
}

/** The places the loader looks for the capture addon, best first (NETKIT_CAPTURE_ADDON, then addon-loader.ts's). */
export function captureAddonCandidates(): AddonCandidate[] {
  const list = addonCandidates('netkit_capture')
  if (process.env.NETKIT_CAPTURE_ADDON) list.unshift({ path: process.env.NETKIT_CAPTURE_ADDON, from: 'NETKIT_CAPTURE_ADDON' })
  return list
}

/** Loads the addon, or throws CaptureUnavailableError naming every place it looked and why each failed. */
export function loadNative(): NativeModule {
  if (process.platform !== 'linux') {
    throw new CaptureUnavailableError(`live capture needs Linux (this is ${process.platform})`, { hint: 'netkit read works on files captured elsewhere' })
  }
  const r = loadAddon<NativeModule>('netkit_capture', captureAddonCandidates())
  if (r.module) return r.module
  throw new CaptureUnavailableError(`the capture addon is neither prebuilt for ${process.platform}-${process.arch} nor compiled; looked in ${r.tried.join('; ')}`, {
    hint: `build it with \`node ${join(packageRoot, 'scripts', 'build-native.js')}\` (needs make, g++ and python3)`,
  })
}
