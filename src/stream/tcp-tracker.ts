/**
 * TcpTracker: runs batches of records through the conversation table and, for the
 * conversations a consumer asks for, through reassembly of both directions. Used by the stream
 * commands (streams, follow, http-log) on files and on live captures alike.
 */
import type { RecordBatch } from '../pcap/record-batch.js'
import { ReassemblyBudget, Reassembler, type StreamSink } from './reassembler.js'
import { TcpConversations, TIME_WAIT_SECONDS, type TcpConversation, type TcpSegmentFacts } from './tcp-conversations.js'
import { TcpSegmentReader } from './tcp-segment.js'

/** The two sinks of a conversation: what A sent, and what B sent. */
export interface ConversationSinks {
  fromA: StreamSink
  fromB: StreamSink
}

/** Decides, when a conversation starts, whether (and where) to reassemble it. */
export type ConversationHandler = (c: TcpConversation) => ConversationSinks | undefined

interface Reassembly {
  a: Reassembler
  b: Reassembler
}

/** Tracks TCP conversations across batches. */
export class TcpTracker {
  /**
   * The conversations. Only a tracker without a handler (the `streams` listing) keeps every one
   * in `conversations.all`; with a handler `all` stays empty, a closed conversation is forgotten
   * once its TIME-WAIT is over, and memory follows the live flows.
   */
  readonly conversations: TcpConversations
  readonly budget: ReassemblyBudget
  /** Frames seen, and frames that carried a TCP segment. */
  frames = 0
  segments = 0
  private readonly seg = new TcpSegmentReader()
  /** The segment as the conversation table reads it (one object, refilled per packet). */
  private readonly facts: TcpSegmentFacts = {
    srcOffset: 0, dstOffset: 0, addrLength: 0, sport: 0, dport: 0, seq: 0, ack: 0, flags: 0,
    frame: 0, sec: 0, nsec: 0, wireLength: 0, payloadLength: 0,
  }
  private readonly reassembly = new Map<TcpConversation, Reassembly | null>()
  /** Timestamp of the first record (the origin of relative times), NaN before any. */
  firstSec = NaN
  firstNsec = 0
  private lastFrame = 0
  private lastTime = 0

  constructor(private readonly handler?: ConversationHandler, budget?: ReassemblyBudget) {
    const listing = handler === undefined
    this.conversations = new TcpConversations({ retain: listing, forgetClosedAfter: listing ? 0 : TIME_WAIT_SECONDS })
    this.budget = budget ?? new ReassemblyBudget()
  }

  /** Processes the records of the batch (those with select[i] !== 0 when `select` is given). */
  add(batch: RecordBatch, select?: Uint8Array): void {
    const seg = this.seg
    const data = batch.data
    if (Number.isNaN(this.firstSec) && batch.count > 0 && !Number.isNaN(batch.tsSec[0])) {
      this.firstSec = batch.tsSec[0]
      this.firstNsec = batch.tsNsec[0]
    }
    for (let i = 0; i < batch.count; i++) {
      if (select !== undefined && select[i] === 0) continue
      this.frames++
      if (!seg.read(data, batch.offset[i], batch.capLen[i], batch.linkType[i])) continue
      this.segments++
      const frame = batch.firstNumber + i
      const time = batch.tsSec[i] + batch.tsNsec[i] / 1e9
      const f = this.facts
      f.srcOffset = seg.srcOffset; f.dstOffset = seg.dstOffset; f.addrLength = seg.addrLength
      f.sport = seg.sport; f.dport = seg.dport; f.seq = seg.seq; f.ack = seg.ack; f.flags = seg.flags
      f.frame = frame; f.sec = batch.tsSec[i]; f.nsec = batch.tsNsec[i]
      f.wireLength = batch.origLen[i]; f.payloadLength = seg.payloadLength
      const place = this.conversations.lookup(data, f)
      this.lastFrame = frame
      this.lastTime = time
      if (!this.handler) continue
      const conv = place.conversation
      let r = this.reassembly.get(conv)
      if (r === undefined) {
        const sinks = this.handler(conv)
        r = sinks ? { a: new Reassembler(sinks.fromA, this.budget), b: new Reassembler(sinks.fromB, this.budget) } : null
        this.reassembly.set(conv, r)
      }
      if (r === null) continue
      ;(place.fromA ? r.a : r.b).segment(seg.seq, seg.flags, data, seg.payloadStart, seg.payloadEnd, frame, time)
      if (seg.flags & 0x10) (place.fromA ? r.b : r.a).acked(seg.ack, frame, time)
    }
  }

  /** End of input: held data is handed on past its gaps, and every stream is closed. */
  finish(): void {
    for (const r of this.reassembly.values()) {
      if (!r) continue
      r.a.finish(this.lastFrame, this.lastTime)
      r.b.finish(this.lastFrame, this.lastTime)
    }
    this.reassembly.clear()
  }

  /**
   * Forgets reassembly state of conversations that have ended both ways, so memory follows the
   * live flows rather than the length of the capture. Returns how many were released.
   */
  release(): number {
    let n = 0
    for (const [conv, r] of this.reassembly) {
      if (r === null ? conv.lastTime < this.lastTime - 60 : r.a.closed && r.b.closed) {
        this.reassembly.delete(conv)
        n++
      }
    }
    return n
  }
}
