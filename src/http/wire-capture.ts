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
import type { RecordBatch } from '../pcap/record-batch.js'
import { TcpSegmentReader, addressText } from '../stream/tcp-segment.js'
import { statSync } from 'node:fs'
import { injectSecrets } from '../pcap/pcapng-secrets.js'
import { TLS_KEY_LOG } from '../pcap/record-batch.js'
import type { TlsSecrets } from './tls-flags.js'

/** What `WireCapture.open` takes. */
export interface WireCaptureOptions {
  /** Interface to capture on (`any` for all). */
  interface: string
  /** The target, as the transport dials it. */
  host: string
  port: number
  /** Write the packets here as well. */
  file?: string
  /** Hand each batch to the file as it comes (a pipe or fifo read live), not about once a second. */
  packetBuffered?: boolean
  /**
   * The run's TLS secrets: written into the pcapng file at the end (a Decryption Secrets Block
   * ahead of the packets), so that tshark and Wireshark decrypt the run with no key file.
   */
  secrets?: TlsSecrets
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
          if (this.options.packetBuffered || Date.now() - flushed > 1000) {
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
    const file = this.options.file
    const secrets = this.options.secrets
    // A fifo or pipe cannot be rewritten: there, --keylog is the way to the secrets.
    if (file !== undefined && secrets !== undefined && !secrets.empty && file.endsWith('.pcapng') && statSync(file).isFile()) {
      injectSecrets(file, TLS_KEY_LOG, secrets.text())
    }
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
 * Counts SYNs without ACK from any source to the target's addresses and port, with the stream
 * commands' TcpSegmentReader (link layers, VLAN tags, IPv4 and IPv6, no allocation per packet;
 * only a SYN's destination is turned into text). A retransmitted SYN carries the same source
 * port and initial sequence number as the attempt it repeats: the last ISN seen on each source
 * port is kept (a fixed 65536-entry table, whatever the number of connections).
 */
export class SynCounter {
  syns = 0
  retransmits = 0
  private readonly lastIsn = new Float64Array(65536).fill(-1)
  private readonly reader = new TcpSegmentReader()
  private readonly addresses: ReadonlySet<string>

  constructor(addresses: readonly string[], private readonly port: number) {
    this.addresses = new Set(addresses)
  }

  count(batch: RecordBatch): void {
    const r = this.reader
    for (let i = 0; i < batch.count; i++) {
      if (!r.read(batch.data, batch.offset[i], batch.capLen[i], batch.linkType[i])) continue
      if (r.dport !== this.port || (r.flags & 0x12) !== 0x02) continue // SYN without ACK
      if (!this.addresses.has(addressText(batch.data, r.dstOffset, r.addrLength))) continue
      if (this.lastIsn[r.sport] === r.seq) {
        this.retransmits++
        continue
      }
      this.lastIsn[r.sport] = r.seq
      this.syns++
    }
  }
}
