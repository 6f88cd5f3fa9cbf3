// @ts-check
// The TCP part of `-T text`, as tcpdump prints it: flags, sequence numbers relative to the
// connection's first acknowledged segment (tcpdump's own per-connection table, which is not
// tshark's), window, urgent pointer, options, length.

/** Flag letters in tcpdump's order (print-tcp.c's tcp_flag_values): F S R P . U E W. */
const FLAG_LETTERS = [[0x01, 'F'], [0x02, 'S'], [0x04, 'R'], [0x08, 'P'], [0x10, '.'], [0x20, 'U'], [0x40, 'E'], [0x80, 'W']]

/** Option names as tcpdump shows them (print-tcp.c's tcp_option_values). */
const OPTION_NAMES = new Map([
  [0, 'eol'], [1, 'nop'], [2, 'mss'], [3, 'wscale'], [4, 'sackOK'], [5, 'sack'], [6, 'echo'], [7, 'echoreply'],
  [8, 'TS'], [11, 'cc'], [12, 'ccnew'], [13, ''], [19, 'md5'], [20, 'scps'], [28, 'uto'], [29, 'tcp-ao'],
  [30, 'mptcp'], [34, 'tfo'], [254, 'exp'],
])

/** Bases of one connection (tcpdump's struct tcp_seq_hash): the "low" side's ISN and the other's. */
class Bases {
  seq = 0
  ack = 0
}

/** Connections remembered for relative numbers; past this many the table starts over. */
const MAX_CONNECTIONS = 1 << 20

const hex = (/** @type {import('netkit').ByteView} */ view, /** @type {number} */ at, /** @type {number} */ n) => {
  let s = ''
  for (let i = 0; i < n; i++) s += view.u8(at + i).toString(16).padStart(2, '0')
  return s
}

/**
 * The text after the endpoints: `Flags [S.], seq 1:62, ack 1, win 512, options [...], length 61`.
 * @param {import('netkit').ByteView} view the TCP header and what follows
 * @param {import('netkit').DissectContext} ctx
 * @param {{ sport: number, dport: number, seq: number, ack: number, flags: number, hl: number, win: number, payload: number }} h
 */
export function tcpdumpText(view, ctx, h) {
  const { sport, dport, flags, hl, payload } = h
  let seq = h.seq
  let ack = h.ack
  let letters = ''
  for (const [bit, l] of FLAG_LETTERS) if (flags & /** @type {number} */ (bit)) letters += l
  // Relative numbers for segments with ACK, as tcpdump does without -S: the table is keyed by
  // the connection with the lower port (then the lower address) first, and a SYN starts over.
  let thseq = 0, thack = 0, rev = false
  if (flags & 0x10 && ctx.addrLength !== 0) {
    const d = view.data
    const src = ctx.srcOffset, dst = ctx.dstOffset, n = ctx.addrLength
    rev = sport > dport
    if (sport === dport) {
      for (let i = 0; i < n; i++) {
        if (d[src + i] !== d[dst + i]) { rev = d[src + i] > d[dst + i]; break }
      }
    }
    const a = ctx.addressText('src'), b = ctx.addressText('dst')
    const key = rev ? `${b}|${a}|${dport}|${sport}` : `${a}|${b}|${sport}|${dport}`
    const table = ctx.state('tcp.tcpdump-bases', () => /** @type {Map<string, Bases>} */ (new Map()))
    let th = table.get(key)
    if (th === undefined || flags & 0x02) {
      if (th === undefined) {
        if (table.size >= MAX_CONNECTIONS) table.clear()
        th = new Bases()
        table.set(key, th)
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
  }
  let s = `Flags [${letters || 'none'}]`
  if (payload > 0 || flags & 0x07) s += payload > 0 ? `, seq ${seq}:${(seq + payload) >>> 0}` : `, seq ${seq}`
  if (flags & 0x10) s += `, ack ${ack}`
  s += `, win ${h.win}`
  if (flags & 0x20) s += `, urg ${view.u16(18)}`
  if (hl > 20) s += `, options [${optionsText(view, hl, rev, thseq, thack)}]`
  return `${s}, length ${payload}`
}

/**
 * The options list as tcpdump prints it (RFC 9293 section 3.1 and the RFCs of each option).
 * @param {import('netkit').ByteView} view @param {number} hl
 * @param {boolean} rev @param {number} thseq @param {number} thack
 */
function optionsText(view, hl, rev, thseq, thack) {
  let out = ''
  for (let p = 20; p < hl;) {
    if (p > 20) out += ','
    if (!view.has(p, 1)) return `${out}[|tcp]`
    const kind = view.u8(p)
    const zeroLen = kind === 0 || kind === 1
    let len = 1
    if (!zeroLen) {
      if (!view.has(p + 1, 1)) return `${out}[|tcp]`
      len = view.u8(p + 1)
      if (len < 2 || p + len > hl) return `${out}[bad opt]`
    }
    const name = OPTION_NAMES.get(kind) ?? `unknown-${kind}`
    out += name
    const at = p + 2
    let datalen = 0
    if (kind === 2) { datalen = 2; if (len >= 4) out += ` ${view.u16(at)}` }
    else if (kind === 3) { datalen = 1; if (len >= 3) out += ` ${view.u8(at)}` }
    else if (kind === 5) {
      datalen = len - 2
      if (datalen % 8 !== 0) out += ' invalid sack'
      else {
        out += ` ${datalen / 8} `
        for (let i = 0; i < datalen; i += 8) {
          const base = rev ? thseq : thack
          out += `{${(view.u32(at + i) - base) >>> 0}:${(view.u32(at + i + 4) - base) >>> 0}}`
        }
      }
    } else if (kind === 6 || kind === 7 || kind === 11 || kind === 12 || kind === 13) { datalen = 4; if (len >= 6) out += ` ${view.u32(at)}` }
    else if (kind === 8) { datalen = 8; if (len >= 10) out += ` val ${view.u32(at)} ecr ${view.u32(at + 4)}` }
    else if (kind === 28) {
      datalen = 2
      if (len >= 4) {
        const v = view.u16(at)
        out += ` 0x${v.toString(16)} ${v & 1 ? (v >> 1) * 60 : v >> 1}`
      }
    } else if (kind === 34) {
      datalen = len - 2
      out += datalen === 0 ? ' cookiereq' : datalen % 2 !== 0 || datalen < 4 || datalen > 16 ? ' invalid' : ` cookie ${hex(view, at, datalen)}`
    } else if (kind === 0 || kind === 1 || kind === 4) datalen = 0
    else {
      datalen = len - 2
      if (datalen > 0) out += ` 0x${hex(view, at, datalen)}`
    }
    const used = datalen + (zeroLen ? 1 : 2)
    if (used !== len) out += `[len ${len}]`
    if (kind === 0) break
    p += len
  }
  return out
}
