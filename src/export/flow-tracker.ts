/**
 * FlowTracker: the TCP and UDP connections of one capture file, Zeek-style (src/export/conn.ts),
 * found per record from the bytes (TcpSegmentReader) in a keyed FlowTable. A connection is
 * handed to `onFlow` when it ends and has been idle a while, when it has been idle past Zeek's
 * inactivity timeouts, when a new SYN reuses its ports, or at the end of the file: memory
 * follows the connections that can still get packets, never the length of the capture.
 */
import { createHash } from 'node:crypto'
import type { RecordBatch } from '../pcap/record-batch.js'
import { FlowTable } from '../stream/flow-table.js'
import { TcpSegmentReader } from '../stream/tcp-segment.js'
import { Conn } from './conn.js'

/** Idle time after which a connection is logged (seconds); Zeek's defaults where it has one. */
export const FLOW_TIMEOUTS = {
  /** An ended TCP connection (FIN both ways, or RST): late ACKs and retransmissions still join it. */
  ended: 30,
  /** Zeek's tcp_inactivity_timeout. */
  tcp: 300,
  /** Zeek's udp_inactivity_timeout. */
  udp: 60,
} as const

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A connection with its uid. */
export interface TrackedConn {
  conn: Conn
  uid: string
}

/** Tracks the connections of one file. */
export class FlowTracker {
  /** The transport header of the record last given to track() (valid when it returned a connection). */
  readonly seg = new TcpSegmentReader(true)
  private readonly table = new FlowTable<TrackedConn>()
  private readonly live = new Set<TrackedConn>()
  private created = 0
  /** Time (seconds) of the last packet tracked. */
  nowSec = 0
  /** Endpoint bytes in canonical order, for FlowTable's keys of finished flows. */
  private readonly pair = Buffer.alloc(32)

  /**
   * @param fileKey identifies the input (uids are made from it and the flow's ordinal, so a
   *   re-export gives the same uids)
   * @param onFlow receives each connection once it is finished
   */
  constructor(private readonly fileKey: string, private readonly onFlow: (t: TrackedConn) => void) {}

  /** Runs record i of the batch; returns its connection, or undefined when it is not TCP/UDP over IP. */
  track(batch: RecordBatch, i: number): TrackedConn | undefined {
    const seg = this.seg
    const data = batch.data
    if (!seg.read(data, batch.offset[i], batch.capLen[i], batch.linkType[i])) return undefined
    const sec = batch.tsSec[i]
    const nsec = batch.tsNsec[i]
    this.nowSec = sec
    const n = seg.addrLength
    // Canonical order (the protocol goes into the second port word: TCP and UDP flows differ): the smaller (address, port) first, so both directions find the entry.
    let c = 0
    for (let k = 0; k < n && c === 0; k++) c = data[seg.srcOffset + k] - data[seg.dstOffset + k]
    const srcLow = c < 0 || (c === 0 && seg.sport <= seg.dport)
    const lo = srcLow ? seg.srcOffset : seg.dstOffset
    const hi = srcLow ? seg.dstOffset : seg.srcOffset
    const loPort = srcLow ? seg.sport : seg.dport
    const hiPort = srcLow ? seg.dport : seg.sport
    let t = this.table.get(data, lo, hi, n, loPort, hiPort | (seg.proto << 16))
    const flags = seg.flags
    const pureSyn = seg.proto === 6 && (flags & 0x12) === 0x02
    if (t !== undefined && pureSyn) {
      // Port reuse: a SYN with another initial sequence number starts a new connection (as
      // Wireshark starts a new tcp.stream).
      const from = t.conn.origPort === seg.sport && data.compare(t.conn.origAddr, 0, n, seg.srcOffset, seg.srcOffset + n) === 0 ? t.conn.orig : t.conn.resp
      if (from.lastSeq[0] !== -1 && from.lastSeq[0] !== seg.seq) {
        this.finish(t)
        t = undefined
      }
    }
    if (t === undefined) {
      // Zeek's heuristic: a connection first seen as a SYN+ACK was opened by the other side.
      const flipped = seg.proto === 6 && (flags & 0x12) === 0x12
      const oOff = flipped ? seg.dstOffset : seg.srcOffset
      const rOff = flipped ? seg.srcOffset : seg.dstOffset
      const conn = new Conn(seg.proto, Buffer.from(data.subarray(oOff, oOff + n)), flipped ? seg.dport : seg.sport,
        Buffer.from(data.subarray(rOff, rOff + n)), flipped ? seg.sport : seg.dport, sec, nsec, flipped)
      t = { conn, uid: this.uid(this.created++) }
      this.table.set(data, lo, hi, n, loPort, hiPort | (seg.proto << 16), t)
      this.live.add(t)
    }
    const conn = t.conn
    const fromOrig = conn.origPort === seg.sport && data.compare(conn.origAddr, 0, n, seg.srcOffset, seg.srcOffset + n) === 0
    if (seg.proto === 6) conn.tcp(fromOrig, seg.ipLength, flags, seg.seq, seg.window, seg.payloadLength)
    else conn.udp(fromOrig, seg.ipLength, seg.payloadLength)
    conn.lastSec = sec
    conn.lastNsec = nsec
    return t
  }

  /** Logs the connections idle past their timeouts (call between batches). */
  expire(): void {
    const now = this.nowSec
    for (const t of this.live) {
      const c = t.conn
      const idle = now - c.lastSec
      const limit = c.proto === 17 ? FLOW_TIMEOUTS.udp : c.ended ? FLOW_TIMEOUTS.ended : FLOW_TIMEOUTS.tcp
      if (idle > limit) this.finish(t)
    }
  }

  /** Number of connections not yet logged. */
  get liveCount(): number {
    return this.live.size
  }

  /** End of input: every connection still open is logged, in the order they started. */
  close(): void {
    for (const t of [...this.live]) this.finish(t)
  }

  private finish(t: TrackedConn): void {
    const c = t.conn
    const n = c.origAddr.length
    const pair = this.pair
    c.origAddr.copy(pair, 0)
    c.respAddr.copy(pair, n)
    const cmp = c.origAddr.compare(c.respAddr)
    const origLow = cmp < 0 || (cmp === 0 && c.origPort <= c.respPort)
    this.table.delete(pair, origLow ? 0 : n, origLow ? n : 0, n, origLow ? c.origPort : c.respPort, (origLow ? c.respPort : c.origPort) | (c.proto << 16))
    this.live.delete(t)
    this.onFlow(t)
  }

  /** A Zeek-like uid ('C' and 17 base62 digits) from the file's key and the flow's ordinal. */
  private uid(ordinal: number): string {
    const h = createHash('sha1').update(`${this.fileKey}:${ordinal}`).digest()
    let s = 'C'
    for (let k = 0; k < 17; k++) s += BASE62[h[k] % 62]
    return s
  }
}
