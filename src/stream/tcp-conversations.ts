/**
 * TcpConversations: the table of TCP conversations, numbered exactly as Wireshark numbers
 * `tcp.stream`. A conversation is the pair of endpoints (address, port) in either direction; a
 * new one (the next index) starts when a pure SYN arrives whose sequence number differs from the
 * base sequence number of its direction (port reuse), as packet-tcp.c does:
 * - a direction's base is set by its first segment: the SYN's sequence number, else seq - 1;
 * - a segment with ACK also sets the other direction's base, when unset, to ack - 1.
 * The table is a Map keyed by the endpoint bytes (V8's hash tables stay linear under
 * adversarial keys, unlike a fixed-bucket table); idle conversations can be expired to bound
 * memory on long captures.
 */

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
  /** Direction A->B and B->A. */
  readonly ab: FlowSide
  readonly ba: FlowSide
  /** The canonical key's first endpoint is A (so the key's "low" side maps to ab). */
  readonly lowIsA: boolean
}

/** What lookup() returns: the conversation and the segment's direction in it. */
export interface SegmentPlace {
  conversation: TcpConversation
  /** True when the segment goes A->B. */
  fromA: boolean
}

function side(): FlowSide {
  return { base: -1, packets: 0, bytes: 0, payloadBytes: 0, syn: false, fin: false, rst: false }
}

/** The conversation table of one capture. */
export class TcpConversations {
  /** Conversations in index order (tcp.stream i is conversations[i]) while retained. */
  readonly all: TcpConversation[] = []
  private readonly byKey = new Map<string, TcpConversation>()
  private readonly place: SegmentPlace = { conversation: undefined as unknown as TcpConversation, fromA: true }

  /** Number of conversations (the next tcp.stream index). */
  get count(): number {
    return this.all.length + this.dropped
  }

  private dropped = 0

  /**
   * Finds (or starts) the conversation of one segment and updates its state and counters.
   * `src`/`dst` are the address bytes as a binary string (latin1) and `srcText`/`dstText`
   * their printable forms (only used when a conversation starts). The returned object is
   * reused by the next call.
   */
  lookup(
    src: string, srcText: () => string, sport: number,
    dst: string, dstText: () => string, dport: number,
    seq: number, ack: number, flags: number,
    frame: number, sec: number, nsec: number, wireLen: number, payloadLen: number,
  ): SegmentPlace {
    const time = sec + nsec / 1e9
    const low = src < dst || (src === dst && sport <= dport)
    const key = low ? `${src}\u0000${sport}\u0000${dst}\u0000${dport}` : `${dst}\u0000${dport}\u0000${src}\u0000${sport}`
    let conv = this.byKey.get(key)
    let fromA = conv === undefined ? true : conv.lowIsA === low
    if (conv !== undefined && (flags & (TcpFlag.SYN | TcpFlag.ACK)) === TcpFlag.SYN) {
      const mine = fromA ? conv.ab : conv.ba
      if (mine.base !== -1 && mine.base !== seq) conv = undefined // port reuse: a new conversation
    }
    if (conv === undefined) {
      conv = {
        index: this.count, addrA: srcText(), portA: sport, addrB: dstText(), portB: dport,
        firstFrame: frame, firstSec: sec, firstNsec: nsec, firstTime: time, lastFrame: frame, lastTime: time,
        ab: side(), ba: side(), lowIsA: low,
      }
      this.all.push(conv)
      this.byKey.set(key, conv)
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
    this.place.conversation = conv
    this.place.fromA = fromA
    return this.place
  }

  /**
   * Forgets conversations whose last packet is older than `time - idleSeconds` and that are
   * closed (FIN both ways or RST), so memory follows live flows on long captures. Their indices
   * stay used. Returns how many were dropped.
   */
  expire(time: number, idleSeconds: number, onDrop?: (c: TcpConversation) => void): number {
    let n = 0
    for (const [key, c] of this.byKey) {
      const closed = (c.ab.fin && c.ba.fin) || c.ab.rst || c.ba.rst
      if (closed && c.lastTime < time - idleSeconds) {
        this.byKey.delete(key)
        onDrop?.(c)
        n++
      }
    }
    if (n > 0) {
      const keep = new Set(this.byKey.values())
      const before = this.all.length
      const kept = this.all.filter((c) => keep.has(c))
      this.all.length = 0
      this.all.push(...kept)
      this.dropped += before - kept.length
    }
    return n
  }
}
