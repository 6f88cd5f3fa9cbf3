/**
 * TcpConversations: the table of TCP conversations, numbered exactly as Wireshark numbers
 * `tcp.stream`. A conversation is the pair of endpoints (address, port) in either direction; a
 * new one (the next index) starts when a pure SYN arrives whose sequence number differs from the
 * base sequence number of its direction (port reuse), as packet-tcp.c does:
 * - a direction's base is set by its first segment: the SYN's sequence number, else seq - 1;
 * - a segment with ACK also sets the other direction's base, when unset, to ack - 1.
 * The table keeps conversations in a FlowTable keyed by the endpoints in canonical order (the
 * smaller address, then port, first), which hashes them with a random per-table key and
 * allocates nothing per packet. Idle closed conversations can be expired to bound memory on
 * long captures, by the caller (expire()) or by the table itself (`forgetClosedAfter`); the
 * endpoints of the most recent expired ones are remembered, so a SYN that reuses them is still
 * told apart as port reuse, as Wireshark tells it.
 */
import { TcpFlags } from '../dissect/constants.js'
import { FlowTable, SweepSchedule } from './flow-table.js'
import { addressText } from './tcp-segment.js'

/**
 * One TCP segment as lookup() reads it: where its addresses are in the packet's bytes, its
 * header values, and the frame it came in. Callers fill one object and reuse it per packet.
 */
export interface TcpSegmentFacts {
  /** Offsets of the source and destination address bytes in the data, and their length (4 or 16). */
  srcOffset: number
  dstOffset: number
  addrLength: number
  sport: number
  dport: number
  seq: number
  ack: number
  /** The flag byte (TcpFlags). */
  flags: number
  /** Frame number, and its timestamp in whole seconds and nanoseconds. */
  frame: number
  sec: number
  nsec: number
  /** Bytes of the frame on the wire (tshark's conversation byte counts), and of TCP payload. */
  wireLength: number
  payloadLength: number
}

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
  /**
   * One past the highest payload sequence number this direction's segments carried (Wireshark's
   * maxnextseq), or -1 before the first payload byte.
   */
  maxNextSeq: number
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
  /** Endpoint words, low endpoint first, as the table holds them (FlowTable.deleteKey takes them). */
  readonly key: Uint32Array
  /**
   * What the table's owner keeps per conversation (plugins/tcp: its sequence analysis),
   * undefined until it sets it: a field read per packet, where a side table would be a lookup.
   */
  state: unknown
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
  /**
   * How many bytes at the start of the segment's payload earlier segments of its direction
   * already carried (0 for new data, the whole payload for a retransmission): a dissector that
   * hands the payload up skips them, as tshark does not give retransmitted data to the protocol
   * above again.
   */
  seen: number
}

const EMPTY_KEY: Uint32Array = new Uint32Array(10)

/**
 * Seconds a closed connection (FIN both ways, or RST) is worth keeping after its last packet:
 * Linux's TIME-WAIT (TCP_TIMEWAIT_LEN, 60 s; RFC 9293 section 3.6.1 asks 2 MSL), after which
 * neither host accepts a segment of it and its ports open with a new SYN. The value for
 * `forgetClosedAfter`, and for any other per-connection table that forgets closed connections.
 */
export const TIME_WAIT_SECONDS = 60

/**
 * How many expired conversations' endpoints are remembered for the port-reuse check (~330 bytes
 * of heap each): the most recent ones, where a client reusing its port is most likely.
 */
const ENDED_KEPT = 4096

function side(): FlowSide {
  return { base: -1, packets: 0, bytes: 0, payloadBytes: 0, syn: false, fin: false, rst: false, maxNextSeq: -1 }
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
  private readonly flows = new FlowTable<TcpConversation>()
  private readonly place: SegmentPlace = { conversation: undefined as unknown as TcpConversation, fromA: true, reused: false, seen: 0 }
  /** Endpoints of expired conversations (value: when they were remembered), ENDED_KEPT at most. */
  private readonly ended = new FlowTable<number>()
  /** The keys of `ended` in the order remembered, as a ring (slot serial % ENDED_KEPT holds serial's). */
  private readonly endedKeys: Uint32Array[] = []
  private endedCount = 0
  /** Seconds of capture time after which lookup() forgets a closed conversation (0: never). */
  private readonly forgetAfter: number
  private readonly sweeps: SweepSchedule | undefined
  /**
   * `retain`: keep every conversation in `all` (default true). `forgetClosedAfter`: lookup()
   * itself expires conversations closed (FIN both ways, or RST) and idle that many seconds of
   * capture time, so memory follows the live flows of the capture, not its length.
   */
  constructor(options: { retain?: boolean; forgetClosedAfter?: number } = {}) {
    this.retain = options.retain ?? true
    this.forgetAfter = options.forgetClosedAfter ?? 0
    this.sweeps = this.forgetAfter > 0 ? new SweepSchedule(this.forgetAfter / 4) : undefined
  }

  /** Number of conversations (the next tcp.stream index). */
  get count(): number {
    return this.created
  }

  /** Number of conversations held (not yet expired). */
  get held(): number {
    return this.flows.size
  }

  /**
   * Finds (or starts) the conversation of segment `s`, whose addresses are in `data`, and
   * updates its state and counters. The returned object is reused by the next call.
   */
  lookup(data: Buffer, s: TcpSegmentFacts): SegmentPlace {
    const { srcOffset, dstOffset, addrLength, sport, dport, seq, ack, flags } = s
    const time = s.sec + s.nsec / 1e9
    if (this.sweeps?.due(time)) this.expire(time, this.forgetAfter)
    // Canonical order: the endpoint with the smaller (address, port) first.
    let low = sport <= dport
    for (let i = 0; i < addrLength; i++) {
      const a = data[srcOffset + i], b = data[dstOffset + i]
      if (a !== b) { low = a < b; break }
    }
    const loOff = low ? srcOffset : dstOffset
    const hiOff = low ? dstOffset : srcOffset
    const loPort = low ? sport : dport
    const hiPort = low ? dport : sport
    const flows = this.flows
    let conv = flows.get(data, loOff, hiOff, addrLength, loPort, hiPort)
    let fromA = conv === undefined ? true : conv.lowIsA === low
    // A pure SYN on the endpoints of an expired conversation reuses its ports.
    let reused = conv === undefined && this.endedCount > 0 && (flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN &&
      this.ended.get(data, loOff, hiOff, addrLength, loPort, hiPort) !== undefined
    if (conv !== undefined && (flags & (TcpFlags.SYN | TcpFlags.ACK)) === TcpFlags.SYN) {
      const mine = fromA ? conv.ab : conv.ba
      // Port reuse: a new conversation takes the old one's place in the table.
      if (mine.base !== -1 && mine.base !== seq) {
        conv = undefined
        reused = true
      }
    } else if (conv !== undefined && (flags & (TcpFlags.SYN | TcpFlags.ACK)) === (TcpFlags.SYN | TcpFlags.ACK)) {
      // A SYN-ACK with another sequence number answers a new SYN on reused ports: its direction
      // starts again from it (as packet-tcp.c does, issue 16944), in the same conversation.
      const mine = fromA ? conv.ab : conv.ba
      if (mine.base !== -1 && mine.base !== seq) {
        mine.base = seq
        mine.maxNextSeq = -1
        reused = true
      }
    }
    if (conv === undefined) {
      const c = {
        index: this.count,
        addrA: addressText(data, srcOffset, addrLength), portA: sport,
        addrB: addressText(data, dstOffset, addrLength), portB: dport,
        firstFrame: s.frame, firstSec: s.sec, firstNsec: s.nsec, firstTime: time,
        lastFrame: s.frame, lastTime: time, lastSec: s.sec, lastNsec: s.nsec,
        ab: side(), ba: side(), lowIsA: low, key: EMPTY_KEY, state: undefined as unknown,
      }
      c.key = flows.set(data, loOff, hiOff, addrLength, loPort, hiPort, c)
      conv = c
      this.created++
      if (this.retain) this.all.push(conv)
      fromA = true
    }
    const mine = fromA ? conv.ab : conv.ba
    const other = fromA ? conv.ba : conv.ab
    if (mine.base === -1) mine.base = flags & TcpFlags.SYN ? seq : (seq - 1) >>> 0
    if (flags & TcpFlags.ACK && other.base === -1) other.base = (ack - 1) >>> 0
    mine.packets++
    mine.bytes += s.wireLength
    mine.payloadBytes += s.payloadLength
    if (flags & TcpFlags.SYN) mine.syn = true
    if (flags & TcpFlags.FIN) mine.fin = true
    if (flags & TcpFlags.RST) mine.rst = true
    // The payload's first byte follows a SYN's sequence number (RFC 9293 section 3.4); sequence
    // numbers compare modulo 2^32.
    let seen = 0
    const len = s.payloadLength
    if (len > 0) {
      const first = flags & TcpFlags.SYN ? (seq + 1) >>> 0 : seq
      const end = (first + len) >>> 0
      if (mine.maxNextSeq === -1 || ((end - mine.maxNextSeq) | 0) > 0) {
        if (mine.maxNextSeq !== -1) seen = Math.max(0, (mine.maxNextSeq - first) | 0)
        mine.maxNextSeq = end
      } else seen = len
    }
    conv.lastFrame = s.frame
    conv.lastTime = time
    conv.lastSec = s.sec
    conv.lastNsec = s.nsec
    this.place.conversation = conv
    this.place.fromA = fromA
    this.place.reused = reused
    this.place.seen = seen
    return this.place
  }

  /**
   * Forgets conversations whose last packet is older than `time - idleSeconds` and that are
   * closed (FIN both ways or RST), so memory follows live flows on long captures. Their indices
   * stay used. Returns how many were dropped.
   */
  expire(time: number, idleSeconds: number): number {
    const before = time - idleSeconds
    const ended = (c: TcpConversation) => ((c.ab.fin && c.ba.fin) || c.ab.rst || c.ba.rst) && c.lastTime < before
    const n = this.flows.deleteWhere((c) => {
      if (!ended(c)) return false
      this.remember(c.key)
      return true
    })
    // `all` also holds conversations port reuse replaced in the table.
    if (this.retain) {
      let kept = 0
      for (const c of this.all) if (!ended(c)) this.all[kept++] = c
      this.all.length = kept
    }
    return n
  }

  /** Remembers an expired conversation's endpoints, forgetting the oldest past ENDED_KEPT. */
  private remember(key: Uint32Array): void {
    const serial = this.endedCount++
    const slot = serial % ENDED_KEPT
    // The slot's previous key was remembered ENDED_KEPT serials ago, with that serial as its value.
    if (serial >= ENDED_KEPT) this.ended.deleteKey(this.endedKeys[slot], serial - ENDED_KEPT)
    // The same endpoints remembered again keep one entry, under the newer value: the older slot's
    // deleteKey() then finds another value and leaves it.
    this.endedKeys[slot] = this.ended.setKey(key, serial)
  }
}
