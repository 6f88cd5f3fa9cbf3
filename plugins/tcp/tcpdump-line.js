// @ts-check
// The TCP part of `-T text`, as tcpdump prints it: flags, sequence numbers relative to the
// connection's first acknowledged segment (tcpdump's own per-connection table, which is not
// tshark's), window, urgent pointer, options, length.
import { FlowTable, SweepSchedule, TcpFlags, TcpOption, TIME_WAIT_SECONDS } from 'netkit/plugin'

const { FIN, SYN, RST, PSH, ACK, URG, ECE, CWR } = TcpFlags

/** Flag letters in tcpdump's order (print-tcp.c's tcp_flag_values): F S R P . U E W. */
const FLAG_LETTERS = [[FIN, 'F'], [SYN, 'S'], [RST, 'R'], [PSH, 'P'], [ACK, '.'], [URG, 'U'], [ECE, 'E'], [CWR, 'W']]

/** Option names as tcpdump shows them (print-tcp.c's tcp_option_values), by kind. */
const OPTION_NAMES = /** @type {Array<string | undefined>} */ (Array.from({ length: 256 }))
for (const [kind, name] of /** @type {Array<[number, string]>} */ ([
  [0, 'eol'], [1, 'nop'], [2, 'mss'], [3, 'wscale'], [4, 'sackOK'], [5, 'sack'], [6, 'echo'], [7, 'echoreply'],
  [8, 'TS'], [11, 'cc'], [12, 'ccnew'], [13, ''], [19, 'md5'], [20, 'scps'], [28, 'uto'], [29, 'tcp-ao'],
  [30, 'mptcp'], [34, 'tfo'], [254, 'exp'],
])) OPTION_NAMES[kind] = name

/** Options NOP, NOP, then Timestamps of length 10, as one word. */
const NOP_NOP_TS = 0x0101080a

/** Bases of one connection (tcpdump's struct tcp_seq_hash): the "low" side's ISN and the other's. */
class Bases {
  seq = 0
  ack = 0
  /** FIN seen from the low side (1) and the high side (2), or a RST (3): closed at 3. */
  closed = 0
  /** Capture time of the connection's last segment with ACK (seconds). */
  last = 0
}

/**
 * Connections remembered for relative numbers; past this many the table starts over. A closed
 * connection's bases are forgotten once its TIME-WAIT is over (capture time), as plugins/tcp
 * forgets its conversation, so the table follows the live connections.
 */
const MAX_CONNECTIONS = 1 << 20

/** `Flags [...]` for each value of the flag byte (made once: no string per packet). */
const FLAGS_TEXT = Array.from({ length: 256 }, (_, flags) => {
  let letters = ''
  for (const [bit, l] of FLAG_LETTERS) if (flags & /** @type {number} */ (bit)) letters += l
  return `Flags [${letters || 'none'}]`
})

const newBasesTable = () => ({
  /** @type {import('netkit').FlowTable<Bases>} */
  table: new FlowTable(),
  sweeps: new SweepSchedule(TIME_WAIT_SECONDS / 4),
})

/**
 * Writes the text after the endpoints: `Flags [S.], seq 1:62, ack 1, win 512, options [...],
 * length 61`.
 * @param {import('netkit').InfoLine} line
 * @param {import('netkit').ByteView} view the TCP header and what follows
 * @param {import('netkit').DissectContext} ctx
 * @param {number} sport @param {number} dport @param {number} seq @param {number} ack
 * @param {number} flags @param {number} hl @param {number} win @param {number} payload
 */
export function tcpdumpInfo(line, view, ctx, sport, dport, seq, ack, flags, hl, win, payload) {
  // Relative numbers for segments with ACK, as tcpdump does without -S: the table is keyed by
  // the connection with the lower port (then the lower address) first, and a SYN starts over.
  let thseq = 0, thack = 0, rev = false
  if (flags & ACK && ctx.addrLength !== 0) {
    const d = view.data
    const src = ctx.srcOffset, dst = ctx.dstOffset, n = ctx.addrLength
    rev = sport > dport
    if (sport === dport) {
      for (let i = 0; i < n; i++) {
        if (d[src + i] !== d[dst + i]) { rev = d[src + i] > d[dst + i]; break }
      }
    }
    const { table, sweeps } = ctx.state('tcp.tcpdump-bases', newBasesTable)
    const now = ctx.sec
    if (sweeps.due(now)) table.deleteWhere((b) => b.closed === 3 && b.last < now - TIME_WAIT_SECONDS)
    const lo = rev ? dst : src, hi = rev ? src : dst
    const loPort = rev ? dport : sport, hiPort = rev ? sport : dport
    let th = table.get(d, lo, hi, n, loPort, hiPort)
    if (th === undefined || flags & SYN) {
      if (th === undefined) {
        if (table.size >= MAX_CONNECTIONS) table.clear()
        th = new Bases()
        table.set(d, lo, hi, n, loPort, hiPort, th)
      }
      if (rev) { th.ack = seq; th.seq = (ack - 1) >>> 0 } else { th.seq = seq; th.ack = (ack - 1) >>> 0 }
    } else if (rev) {
      seq = (seq - th.ack) >>> 0
      ack = (ack - th.seq) >>> 0
    } else {
      seq = (seq - th.seq) >>> 0
      ack = (ack - th.ack) >>> 0
    }
    thseq = th.seq
    thack = th.ack
    th.last = now
    if (flags & RST) th.closed = 3
    else if (flags & FIN) th.closed |= rev ? 2 : 1
  }
  line.text(FLAGS_TEXT[flags & 0xff])
  if (payload > 0) line.text(', seq ').dec(seq).char(0x3a).dec((seq + payload) >>> 0)
  else if (flags & (FIN | SYN | RST)) line.text(', seq ').dec(seq)
  if (flags & ACK) line.text(', ack ').dec(ack)
  line.text(', win ').dec(win)
  if (flags & URG) line.text(', urg ').dec(view.u16(18))
  if (hl === 32 && view.has(20, 12) && view.u32(20) === NOP_NOP_TS) {
    // The layout Linux puts on nearly every segment (RFC 7323 appendix A): what options() prints for it.
    line.text(', options [nop,nop,TS val ').dec(view.u32(24)).text(' ecr ').dec(view.u32(28)).char(0x5d)
  } else if (hl > 20) {
    line.text(', options [')
    options(line, view, hl, rev, thseq, thack)
    line.char(0x5d)
  }
  line.text(', length ').dec(payload)
}

/**
 * The options list as tcpdump prints it (RFC 9293 section 3.1 and the RFCs of each option).
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view @param {number} hl
 * @param {boolean} rev @param {number} thseq @param {number} thack
 */
function options(line, view, hl, rev, thseq, thack) {
  for (let p = 20; p < hl;) {
    if (p > 20) line.char(0x2c)
    if (!view.has(p, 1)) { line.text('[|tcp]'); return }
    const kind = view.u8(p)
    const zeroLen = kind === 0 || kind === 1
    let len = 1
    if (!zeroLen) {
      if (!view.has(p + 1, 1)) { line.text('[|tcp]'); return }
      len = view.u8(p + 1)
      if (len < 2 || p + len > hl) { line.text('[bad opt]'); return }
    }
    const name = OPTION_NAMES[kind]
    if (name !== undefined) line.text(name)
    else line.text('unknown-').dec(kind)
    const at = p + 2
    let datalen = 0
    if (kind === TcpOption.MSS) { datalen = 2; if (len >= 4) line.char(0x20).dec(view.u16(at)) }
    else if (kind === TcpOption.WINDOW_SCALE) { datalen = 1; if (len >= 3) line.char(0x20).dec(view.u8(at)) }
    else if (kind === 5) {
      datalen = len - 2
      if (datalen % 8 !== 0) line.text(' invalid sack')
      else {
        line.char(0x20).dec(datalen / 8).char(0x20)
        for (let i = 0; i < datalen; i += 8) {
          const base = rev ? thseq : thack
          line.char(0x7b).dec((view.u32(at + i) - base) >>> 0).char(0x3a).dec((view.u32(at + i + 4) - base) >>> 0).char(0x7d)
        }
      }
    } else if (kind === 6 || kind === 7 || kind === 11 || kind === 12 || kind === 13) { datalen = 4; if (len >= 6) line.char(0x20).dec(view.u32(at)) }
    else if (kind === 8) { datalen = 8; if (len >= 10) line.text(' val ').dec(view.u32(at)).text(' ecr ').dec(view.u32(at + 4)) }
    else if (kind === 28) {
      datalen = 2
      if (len >= 4) {
        const v = view.u16(at)
        line.text(' 0x').hex(v).char(0x20).dec(v & 1 ? (v >> 1) * 60 : v >> 1)
      }
    } else if (kind === 34) {
      datalen = len - 2
      if (datalen === 0) line.text(' cookiereq')
      else if (datalen % 2 !== 0 || datalen < 4 || datalen > 16) line.text(' invalid')
      else { view.need(at, datalen); line.text(' cookie ').hexBytes(view.data, view.offset + at, datalen) }
    } else if (kind === 0 || kind === 1 || kind === 4) datalen = 0
    else {
      datalen = len - 2
      if (datalen > 0) { view.need(at, datalen); line.text(' 0x').hexBytes(view.data, view.offset + at, datalen) }
    }
    const used = datalen + (zeroLen ? 1 : 2)
    if (used !== len) line.text('[len ').dec(len).char(0x5d)
    if (kind === 0) break
    p += len
  }
}
