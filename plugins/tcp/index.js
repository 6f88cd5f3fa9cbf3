// @ts-check
// TCP (RFC 9293): header, flags, options; tcp.stream and relative sequence numbers from the
// run's conversation table (netkit's TcpConversations, numbered as tshark numbers streams);
// the payload goes to the tcp.port table (lower port first), then to heuristics, as a byte
// stream: a protocol above gets whole messages (see docs/plugins.md, "Protocols over TCP").
import { defineDissector, IpProto, Table, TcpConversations, TcpFlags, TcpOption, TIME_WAIT_SECONDS } from 'netkit/plugin'
import { tcpdumpInfo } from './tcpdump-line.js'
import { analysisFields, TcpAnalysis } from './analysis.js' // wire-tcp: sequence analysis

const { FIN, SYN, RST, ACK } = TcpFlags

/**
 * The run's conversations, and the one segment object their lookup reads (refilled per
 * packet). Only the numbering is needed here: conversations replaced by port reuse are not
 * retained, and a closed one is forgotten, with its analysis state, once its TIME-WAIT is over
 * (capture time), so a read's memory follows the live connections, not the file's length.
 */
const newTracking = () => ({
  conversations: new TcpConversations({ retain: false, forgetClosedAfter: TIME_WAIT_SECONDS }),
  /** @type {import('netkit').TcpSegmentFacts} */
  segment: {
    srcOffset: 0, dstOffset: 0, addrLength: 0, sport: 0, dport: 0, seq: 0, ack: 0, flags: 0,
    frame: 0, sec: 0, nsec: 0, wireLength: 0, payloadLength: 0,
  },
})
const newAnalysis = () => new TcpAnalysis() // wire-tcp

/** What nextStream() is told of a segment (refilled per packet: the context copies it). @type {import('netkit').StreamPosition} */
const position = { altKey: 0, flow: 0, seq: 0, fin: false }

export default defineDissector({
  name: 'tcp',
  handsOn: [Table.TCP_PORT],
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
    flags: { name: 'tcp.flags', type: 'uint', hexDigits: 4, bitmask: 0x0fff, label: 'Flags' },
    fin: { name: 'tcp.flags.fin', type: 'bool', bitmask: TcpFlags.FIN, label: 'Fin' },
    syn: { name: 'tcp.flags.syn', type: 'bool', bitmask: TcpFlags.SYN, label: 'Syn' },
    reset: { name: 'tcp.flags.reset', type: 'bool', bitmask: TcpFlags.RST, label: 'Reset' },
    push: { name: 'tcp.flags.push', type: 'bool', bitmask: TcpFlags.PSH, label: 'Push' },
    ackFlag: { name: 'tcp.flags.ack', type: 'bool', bitmask: TcpFlags.ACK, label: 'Acknowledgment' },
    urg: { name: 'tcp.flags.urg', type: 'bool', bitmask: TcpFlags.URG, label: 'Urgent' },
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
  register: [{ table: Table.IP_PROTO, key: IpProto.TCP }],
  dissect(view, ctx, f) {
    const sport = ctx.add(f.srcport, 0, 2)
    const dport = ctx.add(f.dstport, 2, 2)
    if (ctx.wants(f.port)) { ctx.set(f.port, sport); ctx.set(f.port, dport) }
    const seq = view.u32(4)
    const ack = view.u32(8)
    const hl = (view.u8(12) >> 4) * 4
    const flags = view.u16(12) & 0x0fff
    if (hl < 20) {
      ctx.set(f.hdrLen, hl)
      return ctx.malformed(`bogus TCP header length (${hl}, must be at least 20)`)
    }
    view.need(0, 20)
    ctx.setPorts(sport, dport)
    const payload = Math.max(0, view.reported - hl)
    // Conversation tracking needs the network addresses, and is skipped when no field of it is
    // printed (it must then be skipped for the whole run, which it is: wants() is fixed per run).
    // Otherwise only connections a dissector above may reassemble over need it (decided by the
    // ports, so by connection): SYN/FIN/RST too, which open and close the stream.
    const lo = Math.min(sport, dport), hi = Math.max(sport, dport)
    let rel = -1, relAck = -1, flow = -1
    const run = ctx.state('tcp.analysis', newAnalysis) // wire-tcp: sequence analysis when asked for
    // A protocol above gets the stream: the analysis then also decides which segments it gets
    // (a retransmission's bytes do not go up again), so it sees every segment of the connection.
    // Not when only tcpdump's line is shown: tcpdump decodes each segment as it comes.
    const above = !ctx.summaryOnly && ctx.addrLength !== 0 && ctx.hasNext(Table.TCP_PORT, lo, hi)
    const analysis = run.wants(ctx, f) || above ? run : undefined
    let held = false
    if (ctx.addrLength !== 0 && (ctx.wants(f.stream) || ctx.wants(f.seq) || ctx.wants(f.ack) || ctx.wants(f.nxtseq) || analysis !== undefined)) {
      const { conversations, segment: s } = ctx.state('tcp.conversations', newTracking)
      s.srcOffset = ctx.srcOffset; s.dstOffset = ctx.dstOffset; s.addrLength = ctx.addrLength
      s.sport = sport; s.dport = dport; s.seq = seq; s.ack = ack; s.flags = flags & 0xff
      s.frame = ctx.frame; s.sec = ctx.sec; s.nsec = ctx.nsec; s.payloadLength = payload
      const place = conversations.lookup(view.data, s)
      const c = place.conversation
      ctx.set(f.stream, c.index)
      const mine = place.fromA ? c.ab : c.ba
      const other = place.fromA ? c.ba : c.ab
      rel = (seq - mine.base) >>> 0
      flow = c.index * 2 + (place.fromA ? 0 : 1)
      relAck = flags & ACK ? (ack - other.base) >>> 0 : 0
      // wire-tcp: analysis needs the segment's length (a whole header on the wire); a segment
      // an ICMP error quotes has none for tshark: raw numbers, no length, no analysis.
      if (ctx.quoted) { rel = seq; relAck = ack }
      if (analysis !== undefined) {
        const a = analysis.analyze(ctx, f, view, place, s, !ctx.quoted && view.reported >= hl ? payload : -1, hl)
        held = payload > 0 && TcpAnalysis.holdsBack(a, place.seen >= payload)
      }
    }
    let win
    const record = recordsFields(ctx, f)
    if (!ctx.quoted) ctx.set(f.len, payload) // wire-tcp
    if (record.header) {
      if (rel >= 0) ctx.set(f.seq, rel)
      ctx.set(f.seqRaw, seq)
      // SYN and FIN each take one sequence number (RFC 9293 section 3.4).
      if (rel >= 0 && view.reported >= hl && !ctx.quoted) ctx.set(f.nxtseq, (rel + payload + (flags & (SYN | FIN) ? 1 : 0)) >>> 0)
      if (relAck >= 0) ctx.set(f.ack, relAck)
      ctx.set(f.ackRaw, ack)
      ctx.set(f.hdrLen, hl)
      ctx.add(f.flags, 12, 2)
      ctx.add(f.fin, 12, 2)
      ctx.add(f.syn, 12, 2)
      ctx.add(f.reset, 12, 2)
      ctx.add(f.push, 12, 2)
      ctx.add(f.ackFlag, 12, 2)
      ctx.add(f.urg, 12, 2)
      win = ctx.add(f.window, 14, 2)
      ctx.add(f.checksum, 16, 2)
      ctx.set(f.checksumStatus, 2)
      ctx.add(f.urgent, 18, 2)
    } else win = view.u16(14)
    if (hl > 20) {
      ctx.add(f.options, 20, hl - 20)
      options(view, ctx, f, hl, record.options)
    }
    if (ctx.wantsInfo) tcpdumpInfo(ctx.endpointsLine(sport, dport).text(': '), view, ctx, sport, dport, seq, ack, flags, hl, win, payload)
    // A FIN with no data still goes up: it completes a message read until the sender closes.
    if ((payload > 0 && view.captured > hl) || (flags & FIN && flow >= 0)) {
      // The payload's first byte follows the SYN's sequence number, which the SYN itself takes.
      // A retransmission's bytes do not go up again, as in tshark (TcpAnalysis.holdsBack).
      if (flow >= 0) {
        if (!held) {
          position.altKey = hi
          position.flow = flow
          position.seq = flags & SYN ? (seq + 1) >>> 0 : seq
          position.fin = (flags & FIN) !== 0
          ctx.nextStream(Table.TCP_PORT, lo, hl, position)
        }
      } else ctx.next(Table.TCP_PORT, lo, hl, hi, IpProto.TCP) // the segment alone: the layer above learns it is TCP's
    }
  },
})

/** The header fields set after tcp.len, and the option fields options() sets, by key. */
const HEADER_FIELDS = ['seq', 'seqRaw', 'nxtseq', 'ack', 'ackRaw', 'hdrLen', 'flags', 'fin', 'syn', 'reset', 'push', 'ackFlag', 'urg', 'window', 'checksum', 'checksumStatus', 'urgent']
const OPTION_FIELDS = ['optionKind', 'mss', 'wscale', 'tsval', 'tsecr']

/**
 * Whether any of HEADER_FIELDS, and any of OPTION_FIELDS, is printed or filtered in this run
 * (cached for the last context asked: a context's wants() are fixed for its run). A run that
 * filters on tcp.len or prints tcp.dstport records none of the rest.
 * @param {import('netkit').DissectContext} ctx @param {Record<string, number>} f
 */
function recordsFields(ctx, f) {
  if (ctx !== recording.ctx) {
    recording.ctx = ctx
    recording.header = HEADER_FIELDS.some((k) => ctx.wants(f[k]))
    recording.options = OPTION_FIELDS.some((k) => ctx.wants(f[k]))
  }
  return recording
}
const recording = { ctx: /** @type {import('netkit').DissectContext | undefined} */ (undefined), header: false, options: false }

/**
 * The options list (RFC 9293 section 3.2): kinds, and the values tshark shows most (when
 * `record`: else only a bogus length is looked for).
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {number} hl @param {boolean} record
 */
function options(view, ctx, f, hl, record) {
  for (let p = 20; p < hl;) {
    const kind = view.u8(p)
    if (record) ctx.set(f.optionKind, kind)
    if (kind === TcpOption.EOL) break
    if (kind === TcpOption.NOP) { p++; continue }
    const len = view.u8(p + 1)
    if (len < 2 || p + len > hl) return ctx.malformed(`bogus TCP option length ${len}`)
    if (!record) { p += len; continue }
    if (kind === TcpOption.MSS && len === 4) ctx.add(f.mss, p + 2, 2)
    else if (kind === TcpOption.WINDOW_SCALE && len === 3) ctx.add(f.wscale, p + 2, 1)
    else if (kind === TcpOption.TIMESTAMPS && len === 10) { ctx.add(f.tsval, p + 2, 4); ctx.add(f.tsecr, p + 6, 4) }
    p += len
  }
}
