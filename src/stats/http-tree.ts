/**
 * `http,tree`: HTTP requests by method and responses by status class and code, per HTTP message
 * (tshark's "HTTP/Packet Counter" stats tree, epan/dissectors/packet-http.c). Items print as
 * tshark's stats trees do: children by count, most first, ties newest first; a code's name is its
 * standard reason phrase (RFC 9110 section 15), not the one the server sent.
 */
import { STATUS_CODES } from 'node:http'
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import { first, type CaptureSpan, type PacketTime, type StatsTap } from './tap.js'

/** A stats-tree item: its count and when it saw its most packets within 100 ms (tshark's burst). */
export interface TreeItem {
  name: string
  count: number
  children: TreeItem[]
  /** Times (s, relative) of the packets since windowStart; those from windowStart on are in the burst window. */
  window: number[]
  windowStart: number
  burstCount: number
  burstStart: number
}

/** tshark's default burst window (statistics preference "burst interval", ms). */
const BURST_WINDOW_S = 0.1

function item(name: string): TreeItem {
  return { name, count: 0, children: [], window: [], windowStart: 0, burstCount: 0, burstStart: 0 }
}

function bump(n: TreeItem, t: number): void {
  n.count++
  const w = n.window
  w.push(t)
  while (w[n.windowStart] <= t - BURST_WINDOW_S) n.windowStart++
  // Drop what left the window now and then, not on every packet (amortised O(1)).
  if (n.windowStart > 1024 && n.windowStart * 2 > w.length) { w.splice(0, n.windowStart); n.windowStart = 0 }
  const inWindow = w.length - n.windowStart
  if (inWindow > n.burstCount) { n.burstCount = inWindow; n.burstStart = w[n.windowStart] }
}

function child(parent: TreeItem, name: string): TreeItem {
  let c = parent.children.find((x) => x.name === name)
  if (c === undefined) parent.children.push(c = item(name))
  return c
}

/** Where Wireshark's table of reason phrases (packet-http.c, vals_status_code) words one otherwise than Node's. */
const WIRESHARK_PHRASES: Record<number, string> = {
  203: 'Non-authoritative Information', 408: 'Request Time-out', 413: 'Request Entity Too Large', 414: 'Request-URI Too Long',
  416: 'Requested Range Not Satisfiable', 418: "I'm a teapot", 504: 'Gateway Time-out', 505: 'HTTP Version not supported',
}

const CLASSES = ['1xx: Informational', '2xx: Success', '3xx: Redirection', '4xx: Client Error', '5xx: Server Error', '???: broken']

/** The HTTP packet counter of a run. */
export class HttpTreeTap implements StatsTap {
  readonly fields = ['http', 'http.request.method', 'http.response.code']
  readonly root = item('Total HTTP Packets')
  private readonly requests: TreeItem
  private readonly responses: TreeItem
  private readonly other: TreeItem
  private firstTap = -1
  private lastTap = 0
  private ids?: number[]

  constructor(readonly spec: string, readonly filterText?: string) {
    this.requests = child(this.root, 'HTTP Request Packets')
    this.responses = child(this.root, 'HTTP Response Packets')
    this.other = child(this.root, 'Other HTTP Packets')
    for (const c of CLASSES) child(this.responses, c)
  }

  add(p: DissectedPacket, time: PacketTime): void {
    const [http, method, code] = this.ids ??= this.fields.map((f) => p.fieldId(f))
    if (first(p, http) === -1) return
    const o = p.occurrences
    const t = time.rel
    if (this.firstTap < 0) this.firstTap = t
    this.lastTap = t
    let messages = 0
    for (let k = first(p, method); k !== -1; k = o.next[k]) {
      bump(this.root, t); bump(this.requests, t); bump(child(this.requests, p.valueAt(k) as string), t)
      messages++
    }
    for (let k = first(p, code); k !== -1; k = o.next[k]) {
      const c = o.num[k]
      const cls = c >= 100 && c < 600 ? CLASSES[Math.floor(c / 100) - 1] : CLASSES[5]
      bump(this.root, t); bump(this.responses, t)
      const node = child(this.responses, cls)
      bump(node, t)
      bump(child(node, `${c} ${WIRESHARK_PHRASES[c] ?? STATUS_CODES[c] ?? 'Unknown'}`), t)
      messages++
    }
    if (messages === 0) { bump(this.root, t); bump(this.other, t) }
  }

  /** Children in print order: most packets first, ties newest first. */
  static ordered(n: TreeItem): TreeItem[] {
    return [...n.children].reverse().sort((a, b) => b.count - a.count)
  }

  text(span: CaptureSpan): string {
    const elapsedMs = (this.lastTap - Math.max(0, this.firstTap)) * 1000
    const rows: Array<{ name: string; n: TreeItem; parent?: TreeItem }> = []
    const walk = (n: TreeItem, depth: number, parent?: TreeItem) => {
      rows.push({ name: ' '.repeat(depth) + n.name, n, parent })
      for (const c of HttpTreeTap.ordered(n)) walk(c, depth + 1, n)
    }
    walk(this.root, 0)
    void span
    const nameW = Math.max(...rows.map((r) => r.name.length), 'Topic / Item'.length) + 2
    const col = (s: string) => s.padEnd(14)
    const head = 'Topic / Item'.padEnd(nameW) + ['Count', 'Average', 'Min Val', 'Max Val', 'Rate (ms)', 'Percent', 'Burst Rate', 'Burst Start'].map(col).join('')
    const bar = '='.repeat(head.length - 1)
    let out = `${bar}\nHTTP/Packet Counter:\n${head}\n${'-'.repeat(head.length - 1)}\n`
    for (const { name, n, parent } of rows) {
      const rate = elapsedMs > 0 ? (n.count / elapsedMs).toFixed(4) : ''
      // tshark leaves the percent of an item whose parent counted nothing blank.
      const pct = parent === undefined ? '100%' : parent.count === 0 ? '' : `${((n.count * 100) / parent.count).toFixed(2)}%`
      const burst = n.count === 0 ? '-' : (n.burstCount / (BURST_WINDOW_S * 1000)).toFixed(4)
      const burstAt = n.count === 0 ? '-' : n.burstStart.toFixed(3)
      out += name.padEnd(nameW) + col(String(n.count)) + col('') + col('') + col('') + col(rate) + col(pct) + col(burst) + col(burstAt) + '\n'
    }
    return out + `\n${'-'.repeat(head.length - 1)}\n`
  }

  json(): unknown {
    const walk = (n: TreeItem): unknown => ({ item: n.name, count: n.count, children: HttpTreeTap.ordered(n).map(walk) })
    return walk(this.root)
  }
}
