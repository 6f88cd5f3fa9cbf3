/**
 * TcpConversations: the table of TCP conversations, numbered exactly as Wireshark numbers
 * `tcp.stream`. A conversation is the pair of endpoints (address, port) in either direction; a
 * new one (the next index) starts when a pure SYN arrives whose sequence number differs from the
 * base sequence number of its direction (port reuse), as packet-tcp.c does:
 * - a direction's base is set by its first segment: the SYN's sequence number, else seq - 1;
 * - a segment with ACK also sets the other direction's base, when unset, to ack - 1.
 * The table hashes the endpoints with a keyed hash (a random key per table, so addresses
 * cannot be chosen to collide: tcpdump's fixed-bucket table goes quadratic on such input) into
 * a Map of short chains, compares the endpoint words exactly, and allocates nothing per packet.
 * Idle closed conversations can be expired to bound memory on long captures.
 */
import { randomBytes } from 'node:crypto'
import { hashEndpointWords, sameEndpointWords } from './flow-table.js'
import { addressText } from './tcp-segment.js'

/** TCP flag bits (RFC 9293 section 3.1). */
export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10, URG: 0x20, ECE: 0x40, CWR: 0x80 } as const

/** One direction of a conversation. */
export interface FlowSide {
  /** Base sequence number (Wireshark's base_seq), or -1 while unset. */
  base: number
  packets: number
  /** Bytes on the wire (frame lengths), as tshark's conversation table counts them. */
  bytes: number
  /** TCP payload bytes. */
  payloadBytes: number
  syn: boolean
  fin: boolean
  rst: boolean
}

/** A TCP conversation. */
export interface TcpConversation {
  /** tcp.stream index. */
  readonly index: number
  /** Endpoint A: the one that sent the conversation's first packet. */
  readonly addrA: string
  readonly portA: number
  readonly addrB: string
  readonly portB: number
  /** Frame number and time (seconds, fractional) of the first and last packets. */
  firstFrame: number
  /** The first packet's timestamp exactly: whole seconds and nanoseconds. */
  firstSec: number
  firstNsec: number
  firstTime: number
  lastFrame: number
  lastTime: number
  /** The last packet's timestamp exactly. */
  lastSec: number
  lastNsec: number
  /** Direction A->B and B->A. */
  readonly ab: FlowSide
  readonly ba: FlowSide
  /** The canonical key's first endpoint is A (so the key's "low" side maps to ab). */
  readonly lowIsA: boolean
  /** Endpoint words, low endpoint first: 4 address words and the port, twice. */
  readonly key: Uint32Array
  /** Next conversation in the same hash chain. */
  chain: TcpConversation | undefined
}

/** What lookup() returns: the conversation and the segment's direction in it. */
export interface SegmentPlace {
  conversation: TcpConversation
  /** True when the segment goes A->B. */
  fromA: boolean
  /**
   * True when a SYN met ports in use with another sequence number: a pure SYN started a new
   * conversation, or a SYN-ACK moved its direction's base (Wireshark's "reused ports").
   */
  reused: boolean
}

function side(): FlowSide {
  return { base: -1, packets: 0, bytes: 0, payloadBytes: 0, syn: false, fin: false, rst: false }
}

/** The conversation table of one capture. */
export class TcpConversations {
  /**
   * Conversations in index order (tcp.stream i is conversations[i]) while retained; empty when
   * the table was made with `{ retain: false }`.
   */
  readonly all: TcpConversation[] = []
  /**
   * Whether `all` keeps every conversation (`netkit streams` lists them at the end). A
   * dissector that only numbers streams does not: a conversation replaced by port reuse is
   * then garbage, and memory follows the flows that can still get packets.
   */
  private readonly retain: boolean
  private created = 0
  private readonly buckets = new Map<number, TcpConversation>()
  private readonly place: SegmentPlace = { conversation: undefined as unknown as TcpConversation, fromA: true, reused: false }
  private readonly words = new Uint32Array(10)
  private readonly seed: Uint32Array = new Uint32Array(randomBytes(16).buffer)
  constructor(options: { retain?: boolean } = {}) {
    this.retain = options.retain ?? true
  }

  /** Number of conversations (the next tcp.stream index). */
  get count(): number {
    return this.created
  }

  /**
   * Finds (or starts) the conversation of one segment and updates its state and counters. The
   * addresses are data[srcOff, srcOff + addrLen) and data[dstOff, ...) (4 or 16 bytes). The
   * returned object is reused by the next call.
   */
  lookup(
    data: Buffer, srcOff: number, dstOff: number, addrLen: number, sport: number, dport: number,
    seq: number, ack: number, flags: number,
    frame: number, sec: number, nsec: number, wireLen: number, payloadLen: number,
  ): SegmentPlace {
    const time = sec + nsec / 1e9
    const w = this.words
    // Canonical order: the endpoint with the smaller (address, port) first.
    let low = true
    let decided = false
    for (let i = 0; i < addrLen; i += 4) {
      const a = data.readUInt32BE(srcOff + i)
      const b = data.readUInt32BE(dstOff + i)
      if (!decided && a !== b) { low = a < b; decided = true }
    }
    if (!decided) low = sport <= dport
    const loOff = low ? srcOff : dstOff
    const hiOff = low ? dstOff : srcOff
    const words = addrLen >>> 2
    for (let i = 0; i < 4; i++) {
      w[i] = i < words ? data.readUInt32BE(loOff + i * 4) : 0
      w[5 + i] = i < words ? data.readUInt32BE(hiOff + i * 4) : 0
    }
    w[4] = (low ? sport : dport) | (addrLen << 16)
    w[9] = low ? dport : sport
    const h = this.hash(w)
    let conv = this.buckets.get(h)
    while (conv !== undefined && !sameEndpointWords(conv.key, w)) conv = conv.chain
    let fromA = conv === undefined ? true : conv.lowIsA === low
    let reused = false
    if (conv !== undefined && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) {
      const mine = fromA ? conv.ab : conv.ba
      if (mine.base !== -1 && mine.base !== seq) {
        // Port reuse: a new conversation takes the old one's place in the chain.
        this.unlink(h, conv)
        conv = undefined
        reused = true
      }
    } else if (conv !== undefined && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === (TcpFlag.SYN | TcpFlag.ACK)) {
      // A SYN-ACK with another sequence number answers a new SYN on reused ports: its direction
      // starts again from it (as packet-tcp.c does, issue 16944), in the same conversation.
      const mine = fromA ? conv.ab : conv.ba
      if (mine.base !== -1 && mine.base !== seq) {
        mine.base = seq
        reused = true
      }
    }
    if (conv === undefined) {
      conv = {
        index: this.count,
        addrA: addressText(data, srcOff, addrLen), portA: sport,
        addrB: addressText(data, dstOff, addrLen), portB: dport,
        firstFrame: frame, firstSec: sec, firstNsec: nsec, firstTime: time, lastFrame: frame, lastTime: time, lastSec: sec, lastNsec: nsec,
        ab: side(), ba: side(), lowIsA: low, key: Uint32Array.from(w), chain: this.buckets.get(h),
      }
      this.buckets.set(h, conv)
      this.created++
      if (this.retain) this.all.push(conv)
      fromA = true
    }
    const mine = fromA ? conv.ab : conv.ba
    const other = fromA ? conv.ba : conv.ab
    if (mine.base === -1) mine.base = flags & TcpFlag.SYN ? seq : (seq - 1) >>> 0
    if (flags & TcpFlag.ACK && other.base === -1) other.base = (ack - 1) >>> 0
    mine.packets++
    mine.bytes += wireLen
    mine.payloadBytes += payloadLen
    if (flags & TcpFlag.SYN) mine.syn = true
    if (flags & TcpFlag.FIN) mine.fin = true
    if (flags & TcpFlag.RST) mine.rst = true
    conv.lastFrame = frame
    conv.lastTime = time
    conv.lastSec = sec
    conv.lastNsec = nsec
    this.place.conversation = conv
    this.place.fromA = fromA
    this.place.reused = reused
    return this.place
  }

  private hash(w: Uint32Array): number {
    return hashEndpointWords(w, this.seed)
  }

  private unlink(h: number, conv: TcpConversation): void {
    let head = this.buckets.get(h)
    if (head === conv) {
      if (conv.chain) this.buckets.set(h, conv.chain)
      else this.buckets.delete(h)
      return
    }
    while (head !== undefined && head.chain !== conv) head = head.chain
    if (head) head.chain = conv.chain
  }

  /**
   * Forgets conversations whose last packet is older than `time - idleSeconds` and that are
   * closed (FIN both ways or RST), so memory follows live flows on long captures. Their indices
   * stay used. Returns how many were dropped.
   */
  expire(time: number, idleSeconds: number, onDrop?: (c: TcpConversation) => void): number {
    const keep: TcpConversation[] = []
    let n = 0
    // Without `all`, the conversations that can still get packets are the ones in the chains
    // (gathered first: unlink() changes them).
    let live = this.all
    if (!this.retain) {
      live = []
      for (const first of this.buckets.values()) for (let c: TcpConversation | undefined = first; c !== undefined; c = c.chain) live.push(c)
    }
    for (const c of live) {
      const closed = (c.ab.fin && c.ba.fin) || c.ab.rst || c.ba.rst
      if (closed && c.lastTime < time - idleSeconds) {
        this.unlink(this.hash(c.key), c)
        onDrop?.(c)
        n++
      } else if (this.retain) keep.push(c)
    }
    if (n > 0 && this.retain) {
      this.all.length = 0
      this.all.push(...keep)
    }
    return n
  }
}
