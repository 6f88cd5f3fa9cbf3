/**
 * The capture addon's surface (native/src/addon.cc), declared by hand, and its loader. The addon
 * does only what needs the kernel; everything else about live capture is in this folder.
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CaptureUnavailableError } from '../errors.js'

/** Options of the native Capture constructor. */
export interface NativeCaptureOptions {
  /** Interface index; 0 captures on every interface (cooked, LINUX_SLL2). */
  ifindex: number
  snaplen?: number
  /** Join PACKET_MR_PROMISC (default true). */
  promisc?: boolean
  /** Ring size in bytes. */
  bufferBytes?: number
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
   * Copies every ready ring block that fits into the arrays and returns the blocks to the kernel;
   * returns packets copied. `layout` 1 or 2 puts a pcap record header (µs or ns) before each
   * packet's bytes, 3 or 4 makes each a pcapng EPB of interface 0 (µs or ns), records back to
   * back; 0 (default) aligns each packet to 8 bytes.
   */
  read(data: Buffer, offset: Uint32Array, capLen: Uint32Array, origLen: Uint32Array, tsSec: Float64Array, tsNsec: Uint32Array, layout?: 0 | 1 | 2 | 3 | 4): number
  /** True when the next ring block is ready (no system call). */
  ready(): boolean
  /** Calls back once when the socket is readable or failed (status < 0 is a libuv error code). */
  wait(callback: (status: number, events: number) => void): void
  /**
   * Attaches a classic BPF program (8-byte struct sock_filter entries) with libpcap's swap:
   * reject-all, discard what the ring holds, the program; the counters restart.
   */
  setFilter(program: Buffer): void
  stats(): NativeStats
  /** Attaches a program without the swap (the caller drained the ring after rejectAll()). */
  replaceFilter(program: Buffer): void
  /** Attaches a reject-all filter: nothing more enters the ring (the first step of a clean stop). */
  rejectAll(): void
  /** The socket's pending errno (SO_ERROR; ENETDOWN when the interface went down or away), cleared by reading. */
  socketError(): number
  /** Closes the socket; safe twice and while waiting (the pending callback is dropped). */
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

let cached: NativeModule | undefined

/** The places the loader looks for the addon, best first. */
export function addonCandidates(): string[] {
  const here = dirname(fileURLToPath(import.meta.url)) // src/capture or dist/capture
  const root = join(here, '..', '..')
  const list = [
    join(root, 'native', 'build', 'Release', 'netkit_capture.node'),
    join(root, 'native', 'build', 'Debug', 'netkit_capture.node'),
  ]
  if (process.env.NETKIT_CAPTURE_ADDON) list.unshift(process.env.NETKIT_CAPTURE_ADDON)
  return list
}

/** Loads the addon, or throws CaptureUnavailableError naming every place it looked and why each failed. */
export function loadNative(): NativeModule {
  if (cached) return cached
  if (process.platform !== 'linux') {
    throw new CaptureUnavailableError(`live capture needs Linux (this is ${process.platform})`, { hint: 'netkit read works on files captured elsewhere' })
  }
  const require = createRequire(import.meta.url)
  const tried: string[] = []
  for (const path of addonCandidates()) {
    if (!existsSync(path)) { tried.push(`${path}: not found`); continue }
    try {
      cached = require(path) as NativeModule
      return cached
    } catch (err) {
      tried.push(`${path}: ${(err as Error).message.split('\n')[0]}`)
    }
  }
  throw new CaptureUnavailableError(`the capture addon is not built; looked in ${tried.join('; ')}`, {
    hint: 'build it with `node scripts/build-native.js` (needs make, g++ and python3)',
  })
}
