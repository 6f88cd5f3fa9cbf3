/**
 * Live capture: `openLive(options)` opens an AF_PACKET ring on one interface (or every interface)
 * and hands out RecordBatches of whole ring blocks as an async iterable. The event loop stays
 * free: the addon's capture thread moves each ready ring block into one of a few batches and
 * wakes JS once per block at most, never per packet; the ring drains even while JS is busy.
 */
import { constants as osConstants } from 'node:os'
import { CaptureError, CaptureUnavailableError, InvalidArgumentError, NetkitError, errnoName } from '../errors.js'
import { fanoutConflict, recordFanoutMember, type FanoutSpec } from './fanout.js'
import { LinkType } from '../pcap/link-types.js'
import { RecordBatch, type InterfaceInfo } from '../pcap/record-batch.js'
import { encodeBpfProgram, type BpfInstruction } from './bpf-program.js'
import { cookedProgram } from './cooked-filter.js'
import { captureLink, findInterface } from './interfaces.js'
import { loadNative, type NativeCapture } from './native.js'

/** What `openLive` takes. */
export interface LiveCaptureOptions {
  /** Interface name, or `any` for every interface (LINUX_SLL2 headers). */
  interface: string
  /** Bytes kept of each packet (tcpdump -s; 0 or absent = 262144). */
  snaplen?: number
  /** Enter promiscuous mode (default true; tcpdump -p turns it off). */
  promisc?: boolean
  /** Ring size in bytes (tcpdump -B is KiB; default DEFAULT_BUFFER_BYTES). */
  bufferBytes?: number
  /** Keep packets by direction (tcpdump -Q). */
  direction?: 'in' | 'out' | 'inout'
  /**
   * Classic BPF program run by the kernel on each packet (its return value is the snap length),
   * or a function that builds it for the interface's link type and the snap length.
   */
  filter?: readonly BpfInstruction[] | ((linkType: number, snaplen: number) => readonly BpfInstruction[])
  /** Longest a packet waits in a partly filled ring block before it is delivered (default 50 ms). */
  latencyMs?: number
  /**
   * Lay each batch's bytes out as classic pcap records (16-byte header) or pcapng EPBs of
   * interface 0, with µs or ns timestamps, back to back, so a file takes a run of them with one
   * copy (PcapWriter/PcapngWriter appendRecords). The batch is an ordinary RecordBatch either way.
   */
  recordLayout?: RecordLayout
  /** Join this PACKET_FANOUT group (src/capture/fanout.ts). */
  fanout?: FanoutSpec
}

/** How a live batch's bytes are laid out: `plain`, or file records (pcap or pcapng EPB) with µs or ns timestamps. */
export type RecordLayout = 'plain' | 'pcap-us' | 'pcap-ns' | 'pcapng-us' | 'pcapng-ns'

const LAYOUT_CODES: Record<RecordLayout, 0 | 1 | 2 | 3 | 4> = { plain: 0, 'pcap-us': 1, 'pcap-ns': 2, 'pcapng-us': 3, 'pcapng-ns': 4 }

/** Bytes of file header before each packet's bytes in a layout (0 for plain). */
export function layoutHeaderBytes(layout: RecordLayout): number {
  return layout === 'plain' ? 0 : layout.startsWith('pcapng') ? 28 : 16
}

/** Counters of a live capture, tcpdump's three numbers. */
export interface LiveCaptureStats {
  /** Packets handed out in batches. */
  captured: number
  /** Packets the kernel filter accepted, including those dropped (tcpdump: "received by filter"). */
  received: number
  /** Packets lost because the ring was full (tcpdump: "dropped by kernel"). */
  dropped: number
}

/** What LiveCapture.writeTo wrote. */
export interface WriteToResult {
  packets: number
  /** Packet bytes written (captured lengths). */
  capturedBytes: number
  /** File size after the last whole record written. */
  fileBytes: number
  /** errno of the write that failed, or 0. */
  errno: number
}

/** The default and largest snapshot length (tcpdump's MAXIMUM_SNAPLEN). */
export const MAX_SNAPLEN = 262144

/** The default ring size, 32 MiB: a 4 MiB ring lasts 4 ms of a 1 GB/s flood (see README). */
export const DEFAULT_BUFFER_BYTES = 32 << 20

/**
 * An open live capture. Iterate it once; each batch is valid until the next one is asked for.
 * While an iteration waits for packets the capture keeps the process alive, as a listening
 * socket does, until stop() or close(); one never iterated is closed by the garbage collector.
 */
export class LiveCapture implements AsyncIterable<RecordBatch> {
  /** The one capture interface (link type, snaplen, name) the batches refer to. */
  readonly interfaces: readonly InterfaceInfo[]
  /** Why the capture ended on its own (e.g. the interface went down), when it did. */
  endReason: string | undefined
  /** The batches the capture thread fills, one ring block each, and their packet counts. */
  private readonly chunks: RecordBatch[] = []
  private counts = new Uint32Array(0)
  private started = false
  private writing = false
  private captured = 0
  private closed = false
  private wake: (() => void) | undefined
  private stopping: NodeJS.Timeout | undefined

  /** The layout of every batch's bytes. */
  readonly recordLayout: RecordLayout
  private readonly layoutCode: 0 | 1 | 2 | 3 | 4

  /** Use openLive(). */
  constructor(private readonly native: NativeCapture, info: InterfaceInfo, private readonly ifaceName: string, private readonly latencyMs: number, layout: RecordLayout = 'plain') {
    this.recordLayout = layout
    this.layoutCode = LAYOUT_CODES[layout]
    this.interfaces = [info]
  }

  /**
   * The batches for iteration, made on its first step (writeTo needs none), each holding one
   * ring block, as many as the addon's policy says (the ring's worth again for small rings, 16
   * for larger ones), so a pause of the JS thread costs no packet while the ring and the
   * batches can hold what arrives meanwhile.
   */
  private makeChunks(): void {
    const n = this.native.chunkCount
    const info = this.interfaces[0]
    for (let k = 0; k < n; k++) {
      const b = new RecordBatch(this.native.maxPacketsPerBlock)
      b.data = Buffer.allocUnsafe(this.native.blockRoom)
      b.interfaces = this.interfaces
      b.linkType.fill(info.linkType)
      b.iface.fill(0)
      this.chunks.push(b)
    }
    this.counts = new Uint32Array(n)
  }

  /** The link type every packet has (LINKTYPE_*). */
  get linkType(): number {
    return this.interfaces[0].linkType
  }

  /** Counters so far: the kernel's accumulated PACKET_STATISTICS and what was handed out or written. */
  stats(): LiveCaptureStats {
    const s = this.native.stats()
    const captured = this.writing ? this.native.writerStats().packets : this.captured
    return { captured, received: s.received, dropped: s.dropped }
  }

  /**
   * Instead of iterating: the addon's capture thread appends every packet to the open file `fd`
   * itself, as records of this capture's layout (pcap or pcapng, not plain), and the promise
   * resolves when it ends — after stop() has written the rest, close(), `maxPackets` packets, the
   * interface going away (endReason), or a failed write (`errno`; the file is cut back to its last
   * whole record: pass the file's size so far as `fileBytes`). Blocks of large packets go from the
   * ring to the file in place with writev(), with no copy in user space.
   */
  async writeTo(fd: number, options: { maxPackets?: number; fileBytes: number }): Promise<WriteToResult> {
    if (this.started) throw new CaptureError('a live capture is either iterated or written, once')
    if (this.layoutCode === 0) throw new InvalidArgumentError("writeTo needs a file record layout (recordLayout 'pcap-us', 'pcap-ns', 'pcapng-us' or 'pcapng-ns')")
    this.started = true
    this.writing = true
    if (!this.closed) {
      this.native.startWriter(fd, this.layoutCode as 1 | 2 | 3 | 4, options.maxPackets ?? 0, options.fileBytes)
      while (!this.closed && !this.native.ended) await this.threadNews()
      if (this.native.ended === 'failed') this.fail()
    }
    const result = this.native.writerStats()
    this.close()
    return result
  }

  /**
   * Replaces the kernel filter with libpcap's swap (pcap-linux.c): a reject-all program first, so
   * no packet is judged by a mix of the two; then the ring drains — unlike libpcap, which filters
   * the leftovers in user space, the packets the old filter accepted are still delivered by the
   * iteration; then the new program. Resolves once the new program is attached.
   */
  async setFilter(program: readonly BpfInstruction[]): Promise<void> {
    // A LINUX_SLL2 capture is a cooked socket: the kernel sees no link header (cooked-filter.ts).
    const code = encodeBpfProgram(this.linkType === LinkType.LINUX_SLL2 ? cookedProgram(program) : program)
    if (this.closed) throw new CaptureError('setFilter: the capture is closed')
    this.native.rejectAll()
    // A partly filled block reaches user space when its timer (latencyMs) fires.
    await new Promise((resolve) => setTimeout(resolve, this.blockFlushMs))
    if (this.closed) return
    try {
      this.native.replaceFilter(code)
    } catch (err) {
      throw new CaptureError(`cannot attach the filter: ${(err as Error).message}`, { cause: err })
    }
  }

  /**
   * Stops gracefully: the kernel filter turns to reject-all, so nothing more enters the ring; the
   * packets already in it, including a partly filled block that the kernel hands over only when
   * its timer (latencyMs) fires, are still delivered; then close(). After a stop the counters add
   * up: received = captured + dropped.
   */
  stop(): void {
    if (this.closed || this.stopping) return
    try {
      this.native.rejectAll()
    } catch {
      // The socket is failing already; close() below still ends the capture.
    }
    // After the timer the thread hands over what is left and ends; the iteration delivers it.
    this.stopping = setTimeout(() => {
      if (this.started) this.native.finish()
      else this.close()
    }, this.blockFlushMs)
  }

  /**
   * How long after rejectAll() the ring surely holds every packet the old filter accepted: the
   * block timer (latencyMs) hands a partly filled block over, twice over for a block opened just
   * before, and a margin for the thread to take it.
   */
  private get blockFlushMs(): number {
    return this.latencyMs * 2 + 20
  }

  /** Stops now: the socket closes (the kernel leaves promiscuous mode) and iteration ends. Safe twice. */
  close(): void {
    if (this.closed) return
    if (this.stopping) clearTimeout(this.stopping)
    this.native.stats() // keep the last kernel counters: they are gone with the socket
    this.closed = true
    this.native.close()
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  /** Batches as the ring fills; ends after close(), after stop() has delivered the rest, or when the interface goes away. */
  async *[Symbol.asyncIterator](): AsyncIterator<RecordBatch> {
    if (this.started) throw new CaptureError('a live capture can be iterated once')
    this.started = true
    let held = -1
    try {
      if (this.closed) return
      this.makeChunks()
      this.native.start(this.chunks.map((b) => [b.data, b.offset, b.capLen, b.origLen, b.tsSec, b.tsNsec]), this.counts, this.layoutCode)
      for (;;) {
        if (held >= 0 && !this.closed) this.native.give(held)
        held = -1
        if (this.closed) break
        const k = this.native.take()
        if (k < 0) {
          const ended = this.native.ended
          if (ended === 'failed') this.fail()
          if (ended) break
          await this.threadNews()
          continue
        }
        held = k
        const n = this.counts[k]
        if (n === 0) continue
        const b = this.chunks[k]
        b.count = n
        b.firstNumber = this.captured + 1
        this.captured += n
        yield b
      }
    } finally {
      this.close()
    }
  }

  /** Resolves when the capture thread filled a batch or ended, or when close() is called. */
  private threadNews(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve
      this.native.wait(() => {
        this.wake = undefined
        resolve()
      })
    })
  }

  private fail(): void {
    const errno = this.native.socketError()
    const gone = findInterface(this.ifaceName) === undefined
    if (errno === osConstants.errno.ENETDOWN || errno === osConstants.errno.ENXIO || errno === osConstants.errno.ENODEV || errno === 0) {
      this.endReason = gone ? `the interface ${this.ifaceName} disappeared` : `the interface ${this.ifaceName} went down`
    } else {
      this.endReason = `capture on ${this.ifaceName} failed: ${errnoName(errno)}`
    }
  }
}


/** Opens a live capture. Throws CaptureUnavailableError (exit 3) when this machine or user cannot capture. */
export function openLive(options: LiveCaptureOptions): LiveCapture {
  const snaplen = options.snaplen === undefined || options.snaplen === 0 ? MAX_SNAPLEN : options.snaplen
  if (!Number.isInteger(snaplen) || snaplen < 1 || snaplen > MAX_SNAPLEN) throw new InvalidArgumentError(`the snapshot length must be 1 to ${MAX_SNAPLEN} bytes (got ${options.snaplen})`)
  const bufferBytes = options.bufferBytes ?? DEFAULT_BUFFER_BYTES
  if (!Number.isInteger(bufferBytes) || bufferBytes < 64 << 10 || bufferBytes > 2 ** 31) throw new InvalidArgumentError(`the buffer size must be 64 KiB to 2 GiB (got ${bufferBytes} bytes)`)
  const direction = { inout: 0, in: 1, out: 2 }[options.direction ?? 'inout'] as 0 | 1 | 2 | undefined
  if (direction === undefined) throw new InvalidArgumentError(`the direction must be in, out or inout (got '${options.direction}')`)
  const layout = options.recordLayout ?? 'plain'
  if (!(layout in LAYOUT_CODES)) throw new InvalidArgumentError(`the record layout must be one of ${Object.keys(LAYOUT_CODES).join(', ')} (got '${layout}')`)
  const latencyMs = options.latencyMs ?? 50
  if (!Number.isInteger(latencyMs) || latencyMs < 1 || latencyMs > 10_000) throw new InvalidArgumentError(`the latency must be 1 to 10000 ms (got ${options.latencyMs})`)
  const native = loadNative()
  const any = options.interface === 'any'
  let ifindex = 0
  let link: { linkType: number; cooked: boolean } = { linkType: LinkType.LINUX_SLL2, cooked: true }
  if (!any) {
    const found = findInterface(options.interface)
    if (!found) throw new CaptureError(`no such interface: ${options.interface}`, { hint: 'netkit interfaces lists them' })
    if (!found.up) throw new CaptureError(`the interface ${options.interface} is down`, { hint: `ip link set ${options.interface} up` })
    ifindex = found.index
    link = captureLink(found.arpType)
  }
  // The kernel truncates to the filter's return value before copying into the ring, so a short
  // snaplen costs no ring space. On a cooked socket the program is moved to the kernel's view,
  // which has no SLL2 header (cooked-filter.ts), its snap length too.
  const given = typeof options.filter === 'function' ? options.filter(link.linkType, snaplen) : options.filter
  const wanted = given ?? (snaplen < MAX_SNAPLEN ? [{ code: 0x06, jt: 0, jf: 0, k: snaplen }] : undefined)
  const program = wanted && link.cooked ? cookedProgram(wanted) : wanted
  let capture: NativeCapture
  try {
    capture = new native.Capture({
      ifindex,
      snaplen,
      promisc: options.promisc ?? true,
      bufferBytes,
      blockTimeoutMs: latencyMs,
      direction,
      cooked: link.cooked,
      filter: program ? encodeBpfProgram(program) : undefined,
      loopbackIfindex: findInterface('lo')?.index ?? -1,
      fanout: options.fanout?.value,
    })
  } catch (err) {
    if (options.fanout && /PACKET_FANOUT/.test((err as Error).message)) throw fanoutConflict(options.fanout, options.interface, err)
    throw openError(err, options.interface)
  }
  if (options.fanout) recordFanoutMember(options.fanout, options.interface)
  return new LiveCapture(capture, { linkType: link.linkType, snaplen, name: options.interface }, options.interface, latencyMs, layout)
}

function openError(err: unknown, iface: string): NetkitError {
  const e = err as Error & { errno?: number }
  const errno = e.errno ?? 0
  const { EPERM, EACCES, ENODEV, ENXIO, ENETDOWN, ENOMEM, EAFNOSUPPORT } = osConstants.errno
  if (errno === EPERM || errno === EACCES) {
    return new CaptureUnavailableError(`no permission to capture on ${iface} (${e.message})`, {
      hint: 'run as root, or grant the capability: sudo setcap cap_net_raw,cap_net_admin=eip "$(command -v node)"',
      cause: err,
    })
  }
  if (errno === EAFNOSUPPORT) return new CaptureUnavailableError(`this kernel has no AF_PACKET sockets (${e.message})`, { cause: err })
  if (errno === ENODEV || errno === ENXIO) return new CaptureError(`no such interface: ${iface}`, { hint: 'netkit interfaces lists them', cause: err })
  if (errno === ENETDOWN) return new CaptureError(`the interface ${iface} is down`, { hint: `ip link set ${iface} up`, cause: err })
  if (errno === ENOMEM) return new CaptureError(`the kernel could not allocate the capture ring (${e.message})`, { hint: 'use a smaller -B', cause: err })
  return new CaptureError(`cannot capture on ${iface}: ${e.message}`, { cause: err })
}
