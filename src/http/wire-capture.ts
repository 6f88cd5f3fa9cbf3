/**
 * WireCapture: `netkit http --capture IFACE [-w FILE]`. A live capture of the run's traffic to
 * the target, opened before the first dial and stopped after the transport has closed, that
 * counts the connection attempts seen on the wire (SYNs to the target's address and port), so
 * that the report can show them beside the transport's dials; with a file it also keeps every
 * packet of that traffic (pcap, or pcapng when the name ends in .pcapng).
 *
 * The kernel filter keeps only `tcp port P and host A [or host B ...]` (every address the target's
 * name resolves to), so the counts include other processes' connections to the same target.
 * The interface is not put into promiscuous mode: a client sees its own traffic without it.
 */
import { lookup } from 'node:dns/promises'
import { isIP } from 'node:net'
import { captureFilter } from '../capture/filter-program.js'
import { openLive, type LiveCapture } from '../capture/live-capture.js'
import { RotatingWriter } from '../capture/rotating-writer.js'
import { HttpError, InvalidArgumentError } from '../errors.js'
import { LinkType } from '../pcap/link-types.js'
import type { RecordBatch } from '../pcap/record-batch.js'

/** What `WireCapture.open` takes. */
export interface WireCaptureOptions {
  /** Interface to capture on (`any` for all). */
  interface: string
  /** The target, as the transport dials it. */
  host: string
  port: number
  /** Write the packets here as well. */
  file?: string
}

/** What the capture saw, for the report. */
export interface WireReport {
  interface: string
  /** The kernel filter's expression (pcap-filter syntax). */
  filter: string
  /** Connection attempts seen: SYNs (without ACK) to the target, retransmissions not counted again. */
  syns: number
  /** SYNs that repeated an attempt already seen (same source port and initial sequence number). */
  synRetransmits: number
  /** Packets captured, and lost because the ring was full. */
  packets: number
  dropped: number
  file?: string
}

/** An open capture of one run's traffic. */
export class WireCapture {
  private readonly counter: SynCounter
  private readonly done: Promise<void>
  private failure: unknown

  private constructor(
    private readonly capture: LiveCapture,
    private readonly writer: RotatingWriter | undefined,
    private readonly options: WireCaptureOptions,
    private readonly expr: string,
    addresses: string[],
  ) {
    this.counter = new SynCounter(addresses, options.port)
    this.done = this.loop()
  }

  /**
   * Resolves the target's addresses and opens the capture. Throws CaptureUnavailableError (exit 3)
   * where this user or machine cannot capture, and InvalidArgumentError for a bad interface or file.
   */
  static async open(options: WireCaptureOptions): Promise<WireCapture> {
    let addresses: string[]
    if (isIP(options.host) !== 0) {
      addresses = [options.host]
    } else {
      try {
        addresses = [...new Set((await lookup(options.host, { all: true })).map((a) => a.address))]
      } catch (err) {
        throw new HttpError('dns', `cannot resolve ${options.host} for --capture: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err })
      }
    }
    const expr = `tcp port ${options.port} and (${addresses.map((a) => `host ${a}`).join(' or ')})`
    const file = options.file
    if (file === '-') throw new InvalidArgumentError('-w needs a file name: standard output holds the report')
    const format = file !== undefined && file.endsWith('.pcapng') ? 'pcapng' : 'pcap'
    const capture = openLive({
      interface: options.interface,
      promisc: false,
      // Counting needs the headers only; a file keeps whole packets, as tcpdump -w does.
      snaplen: file === undefined ? 128 : undefined,
      filter: captureFilter(expr, undefined),
      latencyMs: 20,
      recordLayout: file === undefined ? 'plain' : `${format}-us`,
    })
    let writer: RotatingWriter | undefined
    try {
      if (file !== undefined) writer = new RotatingWriter({ path: file, format, nanosecond: false, interfaces: capture.interfaces, batchLayout: capture.recordLayout })
    } catch (err) {
      capture.close()
      throw err
    }
    return new WireCapture(capture, writer, options, expr, addresses)
  }

  private async loop(): Promise<void> {
    let flushed = Date.now()
    try {
      for await (const batch of this.capture) {
        this.counter.count(batch)
        if (this.writer) {
          this.writer.writeBatch(batch)
          // The file stays valid up to about a second ago, as netkit capture's does.
          if (Date.now() - flushed > 1000) {
            this.writer.flush()
            flushed = Date.now()
          }
        }
      }
    } catch (err) {
      this.failure = err
      this.capture.close()
    }
  }

  /** Stops after the packets already in the ring are read; closes the file; returns the figures. */
  async finish(): Promise<WireReport> {
    this.capture.stop()
    await this.done
    const stats = this.capture.stats()
    this.writer?.close(stats)
    if (this.failure !== undefined) throw this.failure
    if (this.capture.endReason) throw new HttpError('capture', `--capture: ${this.capture.endReason}`)
    return {
      interface: this.options.interface,
      filter: this.expr,
      syns: this.counter.syns,
      synRetransmits: this.counter.retransmits,
      packets: stats.captured,
      dropped: stats.dropped,
      ...(this.options.file === undefined ? {} : { file: this.options.file }),
    }
  }

  /** Ends at once (the run failed); whatever was written stays a valid file. */
  close(): void {
    this.capture.close()
    try {
      this.writer?.close(this.capture.stats())
    } catch {
      // Closing after a failure: the run's own error is the one to report.
    }
  }
}

/**
 * Counts SYNs without ACK from any source to the target's addresses and port, reading the link,
 * IP and TCP headers in place (no allocation per packet). A retransmitted SYN carries the same
 * source port and initial sequence number as the attempt it repeats: the last ISN seen on each
 * source port is kept (a fixed 65536-entry table, whatever the number of connections).
 */
export class SynCounter {
  syns = 0
  retransmits = 0
  private readonly lastIsn = new Float64Array(65536).fill(-1)
  private readonly v4: Buffer[] = []
  private readonly v6: Buffer[] = []

  constructor(addresses: readonly string[], private readonly port: number) {
    for (const a of addresses) {
      if (isIP(a) === 4) this.v4.push(Buffer.from(a.split('.').map(Number)))
      else if (isIP(a) === 6) this.v6.push(ipv6Bytes(a))
    }
  }

  count(batch: RecordBatch): void {
    const data = batch.data
    for (let i = 0; i < batch.count; i++) {
      const start = batch.offset[i]
      const end = start + batch.capLen[i]
      let p: number
      let type: number
      switch (batch.linkType[i]) {
        case LinkType.EN10MB:
          p = start + 14
          if (p > end) continue
          type = data.readUInt16BE(p - 2)
          while ((type === 0x8100 || type === 0x88a8) && p + 4 <= end) {
            type = data.readUInt16BE(p + 2)
            p += 4
          }
          break
        case LinkType.LINUX_SLL:
          p = start + 16
          if (p > end) continue
          type = data.readUInt16BE(start + 14)
          break
        case LinkType.LINUX_SLL2:
          p = start + 20
          if (p > end) continue
          type = data.readUInt16BE(start)
          break
        case LinkType.RAW:
        case LinkType.IPV4:
        case LinkType.IPV6:
          p = start
          if (p >= end) continue
          type = data[p] >> 4 === 6 ? 0x86dd : 0x0800
          break
        default:
          continue
      }
      this.packet(data, p, end, type)
    }
  }

  /** One packet whose network header starts at `p` (ethertype `type`). */
  private packet(data: Buffer, p: number, end: number, type: number): void {
    let tcp: number
    if (type === 0x0800) {
      if (p + 20 > end || data[p] >> 4 !== 4 || data[p + 9] !== 6) return
      if ((data.readUInt16BE(p + 6) & 0x1fff) !== 0) return // a later fragment has no TCP header
      if (!matches(this.v4, data, p + 16, 4)) return
      tcp = p + (data[p] & 0x0f) * 4
    } else if (type === 0x86dd) {
      // The TCP header right after the fixed header: a client's SYN carries no extension headers.
      if (p + 40 > end || data[p + 6] !== 6) return
      if (!matches(this.v6, data, p + 24, 16)) return
      tcp = p + 40
    } else {
      return
    }
    if (tcp + 14 > end || data.readUInt16BE(tcp + 2) !== this.port) return
    if ((data[tcp + 13] & 0x12) !== 0x02) return // SYN without ACK
    const srcPort = data.readUInt16BE(tcp)
    const isn = data.readUInt32BE(tcp + 4)
    if (this.lastIsn[srcPort] === isn) {
      this.retransmits++
      return
    }
    this.lastIsn[srcPort] = isn
    this.syns++
  }
}

function matches(list: readonly Buffer[], data: Buffer, at: number, length: number): boolean {
  for (const a of list) if (data.compare(a, 0, length, at, at + length) === 0) return true
  return false
}

/** The 16 bytes of an IPv6 address in text form. */
function ipv6Bytes(text: string): Buffer {
  const out = Buffer.alloc(16)
  let s = text.split('%')[0]
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s)
  if (v4) {
    const n = v4.slice(1).map(Number)
    s = s.slice(0, v4.index) + `${((n[0] << 8) | n[1]).toString(16)}:${((n[2] << 8) | n[3]).toString(16)}`
  }
  const [head, tail] = s.includes('::') ? s.split('::') : [s, undefined]
  const h = head === '' ? [] : head.split(':')
  const t = tail === undefined || tail === '' ? [] : tail.split(':')
  const groups = tail === undefined ? h : [...h, ...new Array(8 - h.length - t.length).fill('0'), ...t]
  groups.forEach((g, i) => out.writeUInt16BE(parseInt(g, 16), i * 2))
  return out
}
