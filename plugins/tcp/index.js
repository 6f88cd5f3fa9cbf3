// @ts-check
// TCP (RFC 9293): header, flags, options; tcp.stream and relative sequence numbers from the
// run's conversation table (netkit's TcpConversations, numbered as tshark numbers streams);
// the payload goes to the tcp.port table (lower port first), then to heuristics.
import { defineDissector, TcpConversations } from 'netkit'
import { endpoints } from '../udp/index.js'
import { tcpdumpInfo } from './tcpdump-line.js'
import { analysisFields, TcpAnalysis } from './analysis.js' // wire-tcp: sequence analysis

// Only the numbering is needed here: conversations replaced by port reuse are not retained.
const newTable = () => new TcpConversations({ retain: false })
const newAnalysis = () => new TcpAnalysis() // wire-tcp

export default defineDissector({
  name: 'tcp',
  handsOn: ['tcp.port'],
  title: 'Transmission Control Protocol',
  fields: {
    srcport: { name: 'tcp.srcport', type: 'uint', label: 'Source Port' },
    dstport: { name: 'tcp.dstport', type: 'uint', label: 'Destination Port' },
    port: { name: 'tcp.port', type: 'uint', label: 'Source or Destination Port' },
    stream: { name: 'tcp.stream', type: 'uint', label: 'Stream index' },
    len: { name: 'tcp.len', type: 'uint', label: 'TCP Segment Len' },
    seq: { name: 'tcp.seq', type: 'uint', label: 'Sequence Number' },
    seqRaw: { name: 'tcp.seq_raw', type: 'uint', label: 'Sequence Number (raw)' },
    nxtseq: { name: 'tcp.nxtseq', type: 'uint', label: 'Next Sequence Number' },
    ack: { name: 'tcp.ack', type: 'uint', label: 'Acknowledgment Number' },
    ackRaw: { name: 'tcp.ack_raw', type: 'uint', label: 'Acknowledgment number (raw)' },
    hdrLen: { name: 'tcp.hdr_len', type: 'uint', label: 'Header Length' },
    flags: { name: 'tcp.flags', type: 'uint', hexDigits: 4, label: 'Flags' },
    fin: { name: 'tcp.flags.fin', type: 'bool', label: 'Fin' },
    syn: { name: 'tcp.flags.syn', type: 'bool', label: 'Syn' },
    reset: { name: 'tcp.flags.reset', type: 'bool', label: 'Reset' },
    push: { name: 'tcp.flags.push', type: 'bool', label: 'Push' },
    ackFlag: { name: 'tcp.flags.ack', type: 'bool', label: 'Acknowledgment' },
    urg: { name: 'tcp.flags.urg', type: 'bool', label: 'Urgent' },
    window: { name: 'tcp.window_size_value', type: 'uint', label: 'Window' },
    checksum: { name: 'tcp.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
    checksumStatus: { name: 'tcp.checksum.status', type: 'uint', label: 'Checksum Status' },
    urgent: { name: 'tcp.urgent_pointer', type: 'uint', label: 'Urgent Pointer' },
    options: { name: 'tcp.options', type: 'bytes', label: 'Options' },
    optionKind: { name: 'tcp.option_kind', type: 'uint', label: 'Kind' },
    mss: { name: 'tcp.options.mss_val', type: 'uint', label: 'MSS Value' },
    wscale: { name: 'tcp.options.wscale.shift', type: 'uint', label: 'Shift count' },
    tsval: { name: 'tcp.options.timestamp.tsval', type: 'uint', label: 'Timestamp value' },
    tsecr: { name: 'tcp.options.timestamp.tsecr', type: 'uint', label: 'Timestamp echo reply' },
    ...analysisFields, // wire-tcp: tcp.analysis.*
  },
  register: [{ table: 'ip.proto', key: 6 }],
  dissect(view, ctx, f) {
    const sport = ctx.add(f.srcport, 0, 2)
    const dport = ctx.add(f.dstport, 2, 2)
    if (ctx.wants(f.port)) { ctx.set(f.port, sport); ctx.set(f.port, dport) }
    const seq = view.u32(4)
    const ack = view.u32(8)
    const b12 = view.u8(12)
    const hl = (b12 >> 4) * 4
    const flags = ((b12 & 0x0f) << 8) | view.u8(13)
    if (hl < 20) {
      ctx.set(f.hdrLen, hl)
      return ctx.malformed(`bogus TCP header length (${hl}, must be at least 20)`)
    }
    view.need(0, 20)
    const payload = Math.max(0, view.reported - hl)
    // Conversation tracking needs the network addresses, and is skipped when no field of it is
    // printed (it must then be skipped for the whole run, which it is: wants() is fixed per run).
    // Otherwise only connections a dissector above may reassemble over need it (decided by the
    // ports, so by connection): SYN/FIN/RST too, which open and close the stream.
    const lo = Math.min(sport, dport), hi = Math.max(sport, dport)
    let rel = -1, relAck = -1, flow = -1
    const run = ctx.state('tcp.analysis', newAnalysis) // wire-tcp: sequence analysis when asked for
    const analysis = run.wants(ctx, f) ? run : undefined
    if (ctx.addrLength !== 0 && ((ctx.wants(f.stream) || ctx.wants(f.seq) || ctx.wants(f.ack) || ctx.wants(f.nxtseq) || analysis !== undefined) ||
        ((payload > 0 || flags & 0x07) && ctx.hasNext('tcp.port', lo, hi)))) {
      const table = ctx.state('tcp.conversations', newTable)
      const place = table.lookup(view.data, ctx.srcOffset, ctx.dstOffset, ctx.addrLength, sport, dport, seq, ack, flags & 0xff, ctx.frame, ctx.sec, ctx.nsec, 0, payload)
      const c = place.conversation
      ctx.set(f.stream, c.index)
      const mine = place.fromA ? c.ab : c.ba
      const other = place.fromA ? c.ba : c.ab
      rel = (seq - mine.base) >>> 0
      flow = c.index * 2 + (place.fromA ? 0 : 1)
      relAck = flags & 0x10 ? (ack - other.base) >>> 0 : 0
      // wire-tcp: analysis needs the segment's length (a whole header on the wire); a segment
      // an ICMP error quotes has none for tshark: raw numbers, no length, no analysis.
      if (ctx.quoted) { rel = seq; relAck = ack }
      if (analysis !== undefined) analysis.analyze(ctx, f, view, c, place.fromA, place.reused, mine.base, seq, ack, flags, view.u16(14), !ctx.quoted && view.reported >= hl ? payload : -1, hl)
    }
    if (!ctx.quoted) ctx.set(f.len, payload) // wire-tcp
    if (rel >= 0) ctx.set(f.seq, rel)
    ctx.set(f.seqRaw, seq)
    if (rel >= 0 && view.reported >= hl && !ctx.quoted) ctx.set(f.nxtseq, (rel + payload + (flags & 0x03 ? 1 : 0)) >>> 0)
    if (relAck >= 0) ctx.set(f.ack, relAck)
    ctx.set(f.ackRaw, ack)
    ctx.set(f.hdrLen, hl)
    ctx.set(f.flags, flags)
    ctx.set(f.fin, flags & 1)
    ctx.set(f.syn, (flags >> 1) & 1)
    ctx.set(f.reset, (flags >> 2) & 1)
    ctx.set(f.push, (flags >> 3) & 1)
    ctx.set(f.ackFlag, (flags >> 4) & 1)
    ctx.set(f.urg, (flags >> 5) & 1)
    const win = ctx.add(f.window, 14, 2)
    ctx.add(f.checksum, 16, 2)
    ctx.set(f.checksumStatus, 2)
    ctx.add(f.urgent, 18, 2)
    if (hl > 20) {
      ctx.add(f.options, 20, hl - 20)
      options(view, ctx, f, hl)
    }
    if (ctx.wantsInfo) tcpdumpInfo(endpoints(view, ctx, sport, dport).text(': '), view, ctx, sport, dport, seq, ack, flags, hl, win, payload)
    // A FIN with no data still goes up: it completes a message read until the sender closes.
    if ((payload > 0 && view.captured > hl) || (flags & 0x01 && flow >= 0)) {
      if (flow >= 0) ctx.nextStream('tcp.port', lo, hl, hi, flow, flags & 0x02 ? (seq + 1) >>> 0 : seq, (flags & 0x01) !== 0)
      else ctx.next('tcp.port', lo, hl, hi)
    }
  },
})

/**
 * The options list (RFC 9293 section 3.2): kinds, and the values tshark shows most.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {number} hl
 */
function options(view, ctx, f, hl) {
  for (let p = 20; p < hl;) {
    const kind = view.u8(p)
    ctx.set(f.optionKind, kind)
    if (kind === 0) break
    if (kind === 1) { p++; continue }
    const len = view.u8(p + 1)
    if (len < 2 || p + len > hl) return ctx.malformed(`bogus TCP option length ${len}`)
    if (kind === 2 && len === 4) ctx.add(f.mss, p + 2, 2)
    else if (kind === 3 && len === 3) ctx.add(f.wscale, p + 2, 1)
    else if (kind === 8 && len === 10) { ctx.add(f.tsval, p + 2, 4); ctx.add(f.tsecr, p + 6, 4) }
    p += len
  }
}
