/**
 * `expert`: the expert infos of a capture by severity (tshark's ui/cli/tap-expert.c), counted
 * per (severity, group, protocol, summary). netkit's dissectors have no expert-info API, so the
 * entries are derived from fields with the severities and texts of Wireshark's packet-tcp.c and
 * packet-http.c:
 *  - TCP connection chats (SYN, SYN+ACK, FIN) and the RST warning, from tcp.flags.*;
 *  - HTTP request and status lines (Chat), from http.request.* / http.response.*;
 *  - every `tcp.analysis.*` and `tcp.connection.fin_*` flag that a dissector registers (the TCP
 *    analysis of #9): the table below is read against the registry, so such a field is counted
 *    as soon as a dissector records it, and ignored while none does;
 *  - a malformed layer, as an Error of group Malformed.
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { first, type StatsTap } from './tap.js'

/** Severities, most severe first, with tshark's section titles. */
const SEVERITIES = [['error', 'Errors'], ['warning', 'Warns'], ['note', 'Notes'], ['chat', 'Chats']] as const
type Severity = typeof SEVERITIES[number][0]

/** An expert info flag field: its severity, group and summary (Wireshark's ei_register_info). */
interface FlagInfo { field: string; severity: Severity; group: string; summary: string; numbered?: string }

/** Wireshark 4.0's TCP analysis expert infos, by field name. */
export const TCP_ANALYSIS_INFOS: readonly FlagInfo[] = [
  { field: 'tcp.analysis.retransmission', severity: 'note', group: 'Sequence', summary: 'This frame is a (suspected) retransmission' },
  { field: 'tcp.analysis.fast_retransmission', severity: 'note', group: 'Sequence', summary: 'This frame is a (suspected) fast retransmission' },
  { field: 'tcp.analysis.spurious_retransmission', severity: 'note', group: 'Sequence', summary: 'This frame is a (suspected) spurious retransmission' },
  { field: 'tcp.analysis.out_of_order', severity: 'warning', group: 'Sequence', summary: 'This frame is a (suspected) out-of-order segment' },
  { field: 'tcp.analysis.reused_ports', severity: 'note', group: 'Sequence', summary: 'A new tcp session is started with the same ports as an earlier session in this trace' },
  { field: 'tcp.analysis.lost_segment', severity: 'warning', group: 'Sequence', summary: 'Previous segment(s) not captured (common at capture start)' },
  { field: 'tcp.analysis.ack_lost_segment', severity: 'warning', group: 'Sequence', summary: "ACKed segment that wasn't captured (common at capture start)" },
  { field: 'tcp.analysis.window_update', severity: 'chat', group: 'Sequence', summary: 'TCP window update' },
  { field: 'tcp.analysis.window_full', severity: 'warning', group: 'Sequence', summary: 'TCP window specified by the receiver is now completely full' },
  { field: 'tcp.analysis.keep_alive', severity: 'note', group: 'Sequence', summary: 'TCP keep-alive segment' },
  { field: 'tcp.analysis.keep_alive_ack', severity: 'note', group: 'Sequence', summary: 'ACK to a TCP keep-alive segment' },
  { field: 'tcp.analysis.duplicate_ack', severity: 'note', group: 'Sequence', summary: 'Duplicate ACK', numbered: 'tcp.analysis.duplicate_ack_num' },
  { field: 'tcp.analysis.zero_window_probe', severity: 'note', group: 'Sequence', summary: 'TCP Zero Window Probe' },
  { field: 'tcp.analysis.zero_window', severity: 'warning', group: 'Sequence', summary: 'TCP Zero Window segment' },
  { field: 'tcp.analysis.zero_window_probe_ack', severity: 'note', group: 'Sequence', summary: 'ACK to a TCP Zero Window Probe' },
  { field: 'tcp.connection.fin_active', severity: 'note', group: 'Sequence', summary: 'This frame initiates the connection closing' },
  { field: 'tcp.connection.fin_passive', severity: 'note', group: 'Sequence', summary: 'This frame undergoes the connection closing' },
]

/** The tcp.analysis.* infos whose fields `registry` has (what the expert table can count). */
export function registeredAnalysis(registry: DissectorRegistry): FlagInfo[] {
  return TCP_ANALYSIS_INFOS.filter((i) => registry.fieldByName.has(i.field))
}

const BASE_FIELDS = [
  'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin', 'tcp.flags.reset', 'tcp.dstport', 'tcp.srcport',
  'http.request.method', 'http.request.uri', 'http.request.version', 'http.response.version', 'http.response.code', 'http.response.phrase',
]

/** One row of the table. */
export interface ExpertEntry { severity: Severity; group: string; protocol: string; summary: string; count: number }

/** The expert table of a run. */
export class ExpertTap implements StatsTap {
  readonly fields: string[]
  readonly allLayers = true
  private readonly analysis: FlagInfo[]
  private readonly entries = new Map<string, ExpertEntry>()
  private ids?: Map<string, number>

  constructor(readonly spec: string, registry: DissectorRegistry, readonly filterText?: string) {
    this.analysis = registeredAnalysis(registry)
    this.fields = [...BASE_FIELDS, ...this.analysis.flatMap((a) => a.numbered ? [a.field, a.numbered] : [a.field])]
  }

  private count(severity: Severity, group: string, protocol: string, summary: string): void {
    const key = `${severity}\0${group}\0${protocol}\0${summary}`
    const e = this.entries.get(key)
    if (e) e.count++
    else this.entries.set(key, { severity, group, protocol, summary, count: 1 })
  }

  add(p: DissectedPacket): void {
    const ids = this.ids ??= new Map(this.fields.map((f) => [f, p.fieldId(f)]))
    const o = p.occurrences
    const num = (f: string, k = first(p, ids.get(f)!)) => k === -1 ? undefined : o.num[k]
    // See: packet-tcp.c, dissect_tcp (tcp.connection.syn / sack / fin / rst).
    if (num('tcp.flags.syn') === 1) {
      if (num('tcp.flags.ack') === 1) this.count('chat', 'Sequence', 'TCP', `Connection establish acknowledge (SYN+ACK): server port ${num('tcp.srcport')}`)
      else this.count('chat', 'Sequence', 'TCP', `Connection establish request (SYN): server port ${num('tcp.dstport')}`)
    }
    if (num('tcp.flags.fin') === 1) this.count('chat', 'Sequence', 'TCP', 'Connection finish (FIN)')
    if (num('tcp.flags.reset') === 1) this.count('warning', 'Sequence', 'TCP', 'Connection reset (RST)')
    for (const a of this.analysis) {
      if (first(p, ids.get(a.field)!) === -1) continue
      const n = a.numbered === undefined ? undefined : num(a.numbered)
      this.count(a.severity, a.group, 'TCP', n === undefined ? a.summary : `${a.summary} (#${n})`)
    }
    // See: packet-http.c: the request or status line (with its CRLF) is a Chat of group Sequence.
    const methodId = ids.get('http.request.method')!
    for (let k = first(p, methodId), i = 0; k !== -1; k = o.next[k], i++) {
      this.count('chat', 'Sequence', 'HTTP', `${p.valueAt(k)} ${nth(p, ids.get('http.request.uri')!, i)} ${nth(p, ids.get('http.request.version')!, i)}\\r\\n`)
    }
    const codeId = ids.get('http.response.code')!
    for (let k = first(p, codeId), i = 0; k !== -1; k = o.next[k], i++) {
      this.count('chat', 'Sequence', 'HTTP', `${nth(p, ids.get('http.response.version')!, i)} ${o.num[k]} ${nth(p, ids.get('http.response.phrase')!, i)}\\r\\n`)
    }
    for (let i = 0; i < p.layerCount; i++) {
      const l = p.layer(i)
      if (l.status === 'malformed') this.count('error', 'Malformed', l.name.toUpperCase(), `Malformed Packet: ${l.reason ?? l.name}`)
    }
  }

  /** The rows, most severe first, in first-seen order within a severity. */
  rows(): ExpertEntry[] {
    const all = [...this.entries.values()]
    return SEVERITIES.flatMap(([s]) => all.filter((e) => e.severity === s))
  }

  text(): string {
    let out = ''
    for (const [s, title] of SEVERITIES) {
      const rows = this.rows().filter((e) => e.severity === s)
      if (rows.length === 0) continue
      out += `\n${title} (${rows.reduce((a, e) => a + e.count, 0)})\n=============\n   Frequency      Group           Protocol  Summary\n`
      for (const e of rows) out += `${String(e.count).padStart(12)} ${e.group.padStart(10)} ${e.protocol.padStart(18)}  ${e.summary}\n`
    }
    return out
  }

  json(): unknown {
    return { analysis_fields: this.analysis.map((a) => a.field), entries: this.rows() }
  }
}

/** The i-th occurrence of field `id` as text ('' when there are fewer). */
function nth(p: DissectedPacket, id: number, i: number): string {
  let k = first(p, id)
  for (let j = 0; j < i && k !== -1; j++) k = p.occurrences.next[k]
  return k === -1 ? '' : String(p.valueAt(k))
}
