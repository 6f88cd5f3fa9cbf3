/**
 * The TCP stream graphs of a capture report (Wireshark's Statistics > TCP Stream Graphs) for the
 * busiest streams: the Stevens graph (sequence number of each segment's end over time, in the
 * direction that sent more), throughput per direction, and round-trip times. Every stream keeps
 * a bounded summary while the file is read (at most 2 x 256 Stevens points, 256 RTT samples and
 * 120 throughput bins), since which streams are the busiest is known only at the end.
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import { Decimator, round, TimeBins } from './series.js'

/** Unacknowledged segments kept per direction for RTT samples. */
const MAX_OUTSTANDING = 64

interface Direction {
  bytes: number
  packets: number
  stevens: Decimator
  /** Ends (relative sequence numbers) and send times of data not yet acknowledged. */
  pendingEnd: number[]
  pendingTime: number[]
  /** Highest segment end sent so far: a segment ending at or below it is a retransmission. */
  highest: number
  rtt: Decimator
}

interface StreamGraph { index: number; aPort: number; label: string; start: number; dirs: [Direction, Direction]; bins: TimeBins }

/** The fields read per packet. */
export const TCP_GRAPH_FIELDS = ['tcp.stream', 'tcp.srcport', 'tcp.dstport', 'tcp.seq', 'tcp.len', 'tcp.ack', 'tcp.flags.ack', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst']

const direction = (): Direction => ({ bytes: 0, packets: 0, stevens: new Decimator(256), pendingEnd: [], pendingTime: [], highest: -1, rtt: new Decimator(256) })

/** Collects the stream summaries. */
export class TcpGraphs {
  private readonly streams: StreamGraph[] = []
  private ids?: number[]

  add(p: DissectedPacket, t: number): void {
    const [stream, sport, dport, seq, len, ack, ackFlag, ip4s, ip4d, ip6s, ip6d] = this.ids ??= TCP_GRAPH_FIELDS.map((f) => p.fieldId(f))
    const o = p.occurrences
    const ks = stream < 0 ? -1 : o.firstOf(stream)
    if (ks === -1) return
    const index = o.num[ks]
    let s = this.streams[index]
    if (s === undefined) {
      const addr = (id4: number, id6: number) => { const k = o.firstOf(id4) !== -1 ? o.firstOf(id4) : id6 >= 0 ? o.firstOf(id6) : -1; return k === -1 ? '?' : String(p.valueAt(k)) }
      const sp = o.num[o.firstOf(sport)]
      const dp = o.num[o.firstOf(dport)]
      s = this.streams[index] = { index, aPort: sp, label: `${addr(ip4s, ip6s)}:${sp} → ${addr(ip4d, ip6d)}:${dp}`, start: t, dirs: [direction(), direction()], bins: new TimeBins(['a', 'b'], 0.001, 120) }
    }
    const fromA = o.num[o.firstOf(sport)] === s.aPort ? 0 : 1
    const d = s.dirs[fromA]
    const back = s.dirs[1 - fromA]
    const kseq = o.firstOf(seq)
    const klen = o.firstOf(len)
    const segLen = klen === -1 ? 0 : o.num[klen]
    d.packets++
    d.bytes += segLen
    s.bins.add(fromA === 0 ? 'a' : 'b', Math.max(0, t - s.start), segLen)
    if (kseq !== -1 && segLen > 0) {
      const end = o.num[kseq] + segLen
      d.stevens.push(round(t), end)
      if (end > d.highest) {
        d.highest = end
        if (d.pendingEnd.length < MAX_OUTSTANDING) { d.pendingEnd.push(end); d.pendingTime.push(t) }
      } else {
        // Karn's rule (RFC 6298 section 3): no sample from data that was sent more than once.
        d.pendingEnd.length = d.pendingTime.length = 0
      }
    }
    const kack = o.firstOf(ack)
    const kflag = ackFlag < 0 ? -1 : o.firstOf(ackFlag)
    if (kack !== -1 && kflag !== -1 && o.num[kflag] === 1 && back.pendingEnd.length > 0) {
      const acked = o.num[kack]
      let sent = -1
      let n = 0
      while (n < back.pendingEnd.length && back.pendingEnd[n] <= acked) sent = back.pendingTime[n++]
      if (n > 0) {
        back.pendingEnd.splice(0, n)
        back.pendingTime.splice(0, n)
        back.rtt.push(round(t), round((t - sent) * 1000))
      }
    }
  }

  /** The `count` streams that carried the most payload, as chart data. */
  busiest(count: number): unknown[] {
    const total = (s: StreamGraph) => s.dirs[0].bytes + s.dirs[1].bytes
    return this.streams.filter((s) => s !== undefined).sort((x, y) => total(y) - total(x)).slice(0, count).map((s) => {
      const main = s.dirs[0].bytes >= s.dirs[1].bytes ? 0 : 1
      const bins = s.bins.export(true)
      return {
        stream: s.index, label: s.label, bytes: total(s), sender: main === 0 ? 'A → B' : 'B → A',
        stevens: { t: s.dirs[main].stevens.x, seq: s.dirs[main].stevens.y },
        throughput: { t: bins.t.map((x) => round(x + s.start)), aToB: bins.columns.a, bToA: bins.columns.b },
        rtt: { t: s.dirs[main].rtt.x, ms: s.dirs[main].rtt.y },
      }
    })
  }
}
