/**
 * `conv,TYPE` and `endpoints,TYPE` (tshark's ui/cli/tap-iousers.c and tap-endpoints.c) for
 * eth, ip, ipv6, tcp and udp. Every layer of the type counts (a tunnelled packet adds to the
 * outer and the inner IP conversation, as tshark's taps fire once per layer), with the frame's
 * length as its bytes. A conversation's A side is the source of its first packet; TCP
 * conversations are told apart by tcp.stream (a reused port pair is a new row, as in tshark).
 */
import { bytesText, relativeSeconds } from '../stream/conversation-table.js'
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import { first, lastBefore, type CaptureSpan, type PacketTime, type StatsTap } from './tap.js'

/** The conversation types and what they read. */
const TYPES = {
  eth: { title: 'Ethernet', src: 'eth.src', dst: 'eth.dst', width: 20, ports: false },
  ip: { title: 'IPv4', src: 'ip.src', dst: 'ip.dst', width: 20, ports: false },
  ipv6: { title: 'IPv6', src: 'ipv6.src', dst: 'ipv6.dst', width: 40, ports: false },
  tcp: { title: 'TCP', src: 'tcp.srcport', dst: 'tcp.dstport', width: 26, ports: true },
  udp: { title: 'UDP', src: 'udp.srcport', dst: 'udp.dstport', width: 26, ports: true },
} as const

/** A conversation or endpoint type (the second word of the spec). */
export type ConversationType = keyof typeof TYPES

/** Whether `t` names a type these tables know. */
export function isConversationType(t: string): t is ConversationType {
  return Object.hasOwn(TYPES, t)
}

interface Side { frames: number; bytes: number }

/** One conversation: A is the first packet's source. */
export interface Conversation {
  addrA: string; portA: number; addrB: string; portB: number
  /** Frames and bytes from A to B and from B to A. */
  ab: Side; ba: Side
  /** First and last packet, seconds since the capture's first. */
  start: number; end: number
  startSec: number; startNsec: number
}

/** One endpoint: an address (and port). */
export interface Endpoint { addr: string; port: number; tx: Side; rx: Side }

const ADDR_OF_PORT = ['ip.src', 'ipv6.src']
const DST_OF_PORT = ['ip.dst', 'ipv6.dst']

/** The conversations of one type, in first-seen order. */
export class ConversationCounter {
  readonly list: Conversation[] = []
  private readonly byKey = new Map<string, Conversation>()
  private ids?: { src: number; dst: number; stream: number; addrSrc: number[]; addrDst: number[]; icmp: number[] }

  constructor(readonly type: ConversationType) {}

  /** The fields read for this type. */
  get fields(): string[] {
    const t = TYPES[this.type]
    return [...(t.ports ? [t.src, t.dst, ...ADDR_OF_PORT, ...DST_OF_PORT, 'tcp.stream'] : [t.src, t.dst]), 'icmp', 'icmpv6']
  }

  add(p: DissectedPacket, time: PacketTime): void {
    const t = TYPES[this.type]
    const ids = this.ids ??= {
      src: p.fieldId(t.src), dst: p.fieldId(t.dst), stream: p.fieldId('tcp.stream'),
      addrSrc: ADDR_OF_PORT.map((n) => p.fieldId(n)), addrDst: DST_OF_PORT.map((n) => p.fieldId(n)),
      icmp: [p.fieldId('icmp'), p.fieldId('icmpv6')],
    }
    const o = p.occurrences
    // Headers quoted inside an ICMP error are no traffic of their own (tshark's taps skip them).
    let end = Infinity
    for (const id of ids.icmp) { const k = first(p, id); if (k !== -1 && k < end) end = k }
    let s = first(p, ids.src)
    let d = first(p, ids.dst)
    let stream = this.type === 'tcp' ? first(p, ids.stream) : -1
    while (s !== -1 && d !== -1 && s < end) {
      let src: string, dst: string, sport = 0, dport = 0
      if (t.ports) {
        const as = lastBefore(p, ids.addrSrc, s)
        const ad = lastBefore(p, ids.addrDst, s)
        if (as === -1 || ad === -1) break
        src = p.valueAt(as) as string
        dst = p.valueAt(ad) as string
        sport = o.num[s]
        dport = o.num[d]
      } else {
        src = p.valueAt(s) as string
        dst = p.valueAt(d) as string
      }
      const tag = stream === -1 ? '' : `#${o.num[stream]}`
      const fwd = `${src}|${sport}|${dst}|${dport}${tag}`
      let c = this.byKey.get(fwd)
      let forward = true
      if (c === undefined) {
        c = this.byKey.get(`${dst}|${dport}|${src}|${sport}${tag}`)
        forward = false
      }
      if (c === undefined) {
        c = {
          addrA: src, portA: sport, addrB: dst, portB: dport, ab: { frames: 0, bytes: 0 }, ba: { frames: 0, bytes: 0 },
          start: time.rel, end: time.rel, startSec: p.sec, startNsec: p.nsec,
        }
        forward = true
        this.byKey.set(fwd, c)
        this.list.push(c)
      }
      const side = forward ? c.ab : c.ba
      side.frames++
      side.bytes += p.origLen
      c.end = time.rel
      s = o.next[s]
      d = o.next[d]
      if (stream !== -1) stream = o.next[stream]
    }
  }

  /** The endpoints of these conversations, in first-seen order. */
  endpoints(): Endpoint[] {
    const out = new Map<string, Endpoint>()
    const get = (addr: string, port: number): Endpoint => {
      const k = `${addr}|${port}`
      let e = out.get(k)
      if (e === undefined) out.set(k, e = { addr, port, tx: { frames: 0, bytes: 0 }, rx: { frames: 0, bytes: 0 } })
      return e
    }
    for (const c of this.list) {
      const a = get(c.addrA, c.portA)
      const b = get(c.addrB, c.portB)
      a.tx.frames += c.ab.frames; a.tx.bytes += c.ab.bytes; a.rx.frames += c.ba.frames; a.rx.bytes += c.ba.bytes
      b.tx.frames += c.ba.frames; b.tx.bytes += c.ba.bytes; b.rx.frames += c.ab.frames; b.rx.bytes += c.ab.bytes
    }
    return [...out.values()]
  }
}

const BAR = '================================================================================'
const frames = (s: Side) => s.frames
const total = (c: Conversation) => c.ab.frames + c.ba.frames

/** Conversations sorted as tshark prints them: most frames first, ties in first-seen order. */
export function sortedConversations(list: readonly Conversation[]): Conversation[] {
  return [...list].sort((x, y) => total(y) - total(x))
}

/** Endpoints sorted as tshark prints them: most packets first, ties in first-seen order. */
export function sortedEndpoints(list: readonly Endpoint[]): Endpoint[] {
  return [...list].sort((x, y) => (frames(y.tx) + frames(y.rx)) - (frames(x.tx) + frames(x.rx)))
}

function filterLine(filter: string | undefined): string {
  return `Filter:${filter ?? '<No Filter>'}\n`
}

/** What the conv and endpoints tables share: one type's conversations, counted as packets come. */
abstract class CounterTap implements StatsTap {
  readonly counter: ConversationCounter
  constructor(readonly spec: string, type: ConversationType, readonly filterText?: string) {
    this.counter = new ConversationCounter(type)
  }

  get fields(): string[] { return this.counter.fields }

  add(p: DissectedPacket, time: PacketTime): void { this.counter.add(p, time) }

  abstract text(span: CaptureSpan): string
  abstract json(): unknown
}

/** `-z conv,TYPE[,FILTER]`. */
export class ConversationTap extends CounterTap {

  text(span: CaptureSpan): string {
    const t = TYPES[this.counter.type]
    const w = t.width
    const pad = ' '.repeat(w * 2 + 7)
    let out = `${BAR}\n${t.title} Conversations\n${filterLine(this.filterText)}`
    out += `${pad}|       <-      | |       ->      | |     Total     |    Relative    |   Duration   |\n`
    out += `${pad}| Frames  Bytes | | Frames  Bytes | | Frames  Bytes |      Start     |              |\n`
    const name = (a: string, port: number) => t.ports ? `${a}:${port}` : a
    const cell = (f: number, b: number) => `${String(f).padStart(8)} ${bytesText(b).padEnd(9)}`
    for (const c of sortedConversations(this.counter.list)) {
      out += `${name(c.addrA, c.portA).padEnd(w)} <-> ${name(c.addrB, c.portB).padEnd(w)}` +
        `${cell(c.ba.frames, c.ba.bytes)}${cell(c.ab.frames, c.ab.bytes)}${cell(total(c), c.ab.bytes + c.ba.bytes)}` +
        ` ${relativeSeconds(c.startSec, c.startNsec, span.firstSec, span.firstNsec).toFixed(9).padStart(15)}${(c.end - c.start).toFixed(4).padStart(15)}\n`
    }
    return out + `${BAR}\n`
  }

  json(): unknown {
    return sortedConversations(this.counter.list).map((c) => ({
      a: this.counter.type === 'tcp' || this.counter.type === 'udp' ? { address: c.addrA, port: c.portA } : { address: c.addrA },
      b: this.counter.type === 'tcp' || this.counter.type === 'udp' ? { address: c.addrB, port: c.portB } : { address: c.addrB },
      a_to_b: { frames: c.ab.frames, bytes: c.ab.bytes },
      b_to_a: { frames: c.ba.frames, bytes: c.ba.bytes },
      frames: total(c), bytes: c.ab.bytes + c.ba.bytes,
      start: c.start, duration: c.end - c.start,
    }))
  }
}

/** `-z endpoints,TYPE[,FILTER]`. */
export class EndpointTap extends CounterTap {

  text(): string {
    const t = TYPES[this.counter.type]
    let out = `${BAR}\n${t.title} Endpoints\n${filterLine(this.filterText)}`
    out += `                       |${t.ports ? '  Port  ||' : ''}  Packets  | |  Bytes  | | Tx Packets | | Tx Bytes | | Rx Packets | | Rx Bytes |\n`
    for (const e of sortedEndpoints(this.counter.endpoints())) {
      out += e.addr.padEnd(20) + (t.ports ? String(e.port).padStart(11) + String(e.tx.frames + e.rx.frames).padStart(11) : String(e.tx.frames + e.rx.frames).padStart(12)) +
        String(e.tx.bytes + e.rx.bytes).padStart(14) + String(e.tx.frames).padStart(11) + String(e.tx.bytes).padStart(16) +
        String(e.rx.frames).padStart(12) + String(e.rx.bytes).padStart(16) + '   \n'
    }
    return out + `${BAR}\n`
  }

  json(): unknown {
    const ports = TYPES[this.counter.type].ports
    return sortedEndpoints(this.counter.endpoints()).map((e) => ({
      address: e.addr, ...(ports ? { port: e.port } : {}),
      packets: e.tx.frames + e.rx.frames, bytes: e.tx.bytes + e.rx.bytes,
      tx_packets: e.tx.frames, tx_bytes: e.tx.bytes, rx_packets: e.rx.frames, rx_bytes: e.rx.bytes,
    }))
  }
}
