// @ts-check
// The DNS part of `-T text`, as `tcpdump -n` prints it without -v (print-domain.c's
// domain_print): id, opcode, flags, counts, the questions of a query, the answers of a response,
// and the message length; `[|domain]` where the captured bytes end.
import { TRUNCATED } from 'netkit/plugin'
import { skipName } from './names.js'

const OPS = ['', ' inv_q', ' stat', ' op3', ' notify', ' update', ' op6', ' op7', ' op8', ' updateA', ' updateD',
  ' updateDA', ' updateM', ' updateMA', ' zoneInit', ' zoneRef']
const RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused', ' YXDomain', ' YXRRSet', ' NXRRSet',
  ' NotAuth', ' NotZone', ' Resp11', ' Resp12', ' Resp13', ' Resp14', ' NoChange', ' BadVers', 'Resp17', ' Resp18',
  ' Resp19', ' Resp20', 'Resp21', ' Resp22', ' BadCookie']
/** Type names tcpdump knows (its ns_type2str); others print as `Type<n>`. */
const TYPES = new Map([
  [1, 'A'], [2, 'NS'], [3, 'MD'], [4, 'MF'], [5, 'CNAME'], [6, 'SOA'], [7, 'MB'], [8, 'MG'], [9, 'MR'], [10, 'NULL'],
  [11, 'WKS'], [12, 'PTR'], [13, 'HINFO'], [14, 'MINFO'], [15, 'MX'], [16, 'TXT'], [17, 'RP'], [18, 'AFSDB'],
  [19, 'X25'], [20, 'ISDN'], [21, 'RT'], [22, 'NSAP'], [23, 'NSAP_PTR'], [24, 'SIG'], [25, 'KEY'], [26, 'PX'],
  [27, 'GPOS'], [28, 'AAAA'], [29, 'LOC'], [30, 'NXT'], [31, 'EID'], [32, 'NIMLOC'], [33, 'SRV'], [34, 'ATMA'],
  [35, 'NAPTR'], [36, 'KX'], [37, 'CERT'], [38, 'A6'], [39, 'DNAME'], [40, 'SINK'], [41, 'OPT'], [42, 'APL'],
  [43, 'DS'], [44, 'SSHFP'], [45, 'IPSECKEY'], [46, 'RRSIG'], [47, 'NSEC'], [48, 'DNSKEY'], [99, 'SPF'],
  [100, 'UINFO'], [101, 'UID'], [102, 'GID'], [103, 'UNSPEC'], [104, 'UNSPECA'], [249, 'TKEY'], [250, 'TSIG'],
  [251, 'IXFR'], [252, 'AXFR'], [253, 'MAILB'], [254, 'MAILA'], [255, 'ANY'], [256, 'URI'],
])
const CLASSES = new Map([[1, 'IN'], [3, 'CHAOS'], [4, 'HS'], [255, 'ANY']])
const T = { A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, MX: 15, TXT: 16, AAAA: 28, SRV: 33, DNAME: 39, OPT: 41, UNSPECA: 104, URI: 256 }
const CLASS_IN = 1
const OPCODE_IQUERY = 1
/** mDNS's top class bit: unicast-response wanted (questions), cache flush (records), RFC 6762. */
const CLASS_TOP_BIT = 0x8000
/** Longest name tcpdump prints (MAXCDNAME). */
const MAX_NAME = 255

/**
 * Writes the summary of the message view[m, m + length) to `line`; `mdns` for multicast DNS
 * (the class's top bit is a flag there).
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 * @param {number} m @param {number} length @param {boolean} mdns
 */
export function dnsLine(line, view, m, length, mdns) {
  if (length < 12) {
    line.text('domain [length ').dec(length).text(' < 12] (invalid)')
    return
  }
  try {
    body(line, view, m, length, mdns)
  } catch (err) {
    if (err !== TRUNCATED) throw err
    line.text(' [|domain]')
  }
}

/**
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 * @param {number} m @param {number} length @param {boolean} mdns
 */
function body(line, view, m, length, mdns) {
  const id = view.u16(m)
  const flags = view.u16(m + 2)
  let qd = view.u16(m + 4), an = view.u16(m + 6), ns = view.u16(m + 8)
  const ar = view.u16(m + 10)
  if (flags & 0x8000) {
    line.dec(id).text(OPS[(flags >> 11) & 15])
    const rcode = (flags & 15) | (extendedRcode(view, m, qd, an + ns, ar) << 4)
    line.text(rcode < RCODES.length ? RCODES[rcode] : ` Resp${rcode & 0xfff}`)
    if (flags & 0x400) line.char(0x2a)
    if (!(flags & 0x80)) line.char(0x2d)
    if (flags & 0x200) line.char(0x7c)
    if (flags & 0x20) line.char(0x24)
    if (qd !== 1) line.text(' [').dec(qd).text('q]')
    let p = m + 12
    for (let i = 0; i < qd; i++) {
      p = skipName(view, p)
      if (p < 0) throw TRUNCATED
      p += 4
    }
    line.char(0x20).dec(an).char(0x2f).dec(ns).char(0x2f).dec(ar)
    if (an > 0) {
      p = record(line, view, m, p, mdns)
      an--
      while (p < view.captured && an > 0) {
        line.char(0x2c)
        p = record(line, view, m, p, mdns)
        an--
      }
    }
    if (an > 0) throw TRUNCATED
  } else {
    line.dec(id).text(OPS[(flags >> 11) & 15])
    if (flags & 0x100) line.char(0x2b)
    if (flags & 0x10) line.char(0x25)
    if (flags & 0x6cf) line.text(' [b2&3=0x').hex(flags).char(0x5d)
    if (((flags >> 11) & 15) === OPCODE_IQUERY) {
      if (qd) line.text(' [').dec(qd).text('q]')
      if (an !== 1) line.text(' [').dec(an).text('a]')
    } else {
      if (an) line.text(' [').dec(an).text('a]')
      if (qd !== 1) line.text(' [').dec(qd).text('q]')
    }
    if (ns) line.text(' [').dec(ns).text('n]')
    if (ar) line.text(' [').dec(ar).text('au]')
    let p = m + 12
    if (qd > 0) {
      p = question(line, view, m, p, mdns)
      qd--
      while (p < view.captured && qd > 0) {
        p = question(line, view, m, p, mdns)
        qd--
      }
    }
    if (qd > 0) throw TRUNCATED
  }
  line.text(' (').dec(length).char(0x29)
}

/**
 * The upper bits of the response code from the OPT record, found as tcpdump finds it (RFC 6891
 * section 6.1.3); 0 when the walk runs out of captured bytes.
 * @param {import('netkit').ByteView} view @param {number} m @param {number} qd @param {number} records
 * @param {number} ar
 */
function extendedRcode(view, m, qd, records, ar) {
  const end = view.captured
  let p = m + 12
  try {
    for (let i = 0; i < qd; i++) {
      if ((p = skipName(view, p)) < 0) return 0
      p += 4
      if (p >= end) return 0
    }
    for (let i = 0; i < records; i++) {
      if ((p = skipName(view, p)) < 0) return 0
      p += 8
      if (p + 2 > end) return 0
      p += 2 + view.u16(p)
      if (p >= end) return 0
    }
    for (let i = 0; i < ar; i++) {
      if ((p = skipName(view, p)) < 0) return 0
      if (p + 2 > end) return 0
      const type = view.u16(p)
      p += 4
      if (p + 1 > end) return 0
      if (type === T.OPT) return view.u8(p)
      p += 4
      if (p + 2 > end) return 0
      p += 2 + view.u16(p)
      if (p >= end) return 0
    }
  } catch (err) {
    if (err !== TRUNCATED) throw err
  }
  return 0
}

/**
 * One question: ` A? name.` (ns_qprint).
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 * @param {number} m @param {number} p @param {boolean} mdns
 */
function question(line, view, m, p, mdns) {
  const q = skipName(view, p)
  if (q < 0) throw TRUNCATED
  view.need(q, 4)
  typeName(line, view.u16(q))
  const cls = view.u16(q + 2)
  const c = mdns ? cls & ~CLASS_TOP_BIT : cls
  if (c !== CLASS_IN) className(line, c)
  if (mdns) line.text(cls & CLASS_TOP_BIT ? ' (QU)' : ' (QM)')
  line.text('? ')
  const end = fqdn(line, view, m, p)
  return end + 4
}

/**
 * One resource record without -v (ns_rprint): its type and, for the common types, its data.
 * Returns the offset after it.
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 * @param {number} m @param {number} p @param {boolean} mdns
 */
function record(line, view, m, p, mdns) {
  const q = skipName(view, p)
  if (q < 0 || !view.has(q, 10)) return view.captured
  const type = view.u16(q)
  const cls = view.u16(q + 2)
  const c = mdns ? cls & ~CLASS_TOP_BIT : cls
  if (c !== CLASS_IN && type !== T.OPT) className(line, c)
  if (mdns && cls & CLASS_TOP_BIT) line.text(' (Cache flush)')
  const optFlags = view.u16(q + 6)
  const len = view.u16(q + 8)
  const d = q + 10
  const next = d + len
  typeName(line, type)
  if (next > view.captured) throw TRUNCATED
  switch (type) {
    case T.A: line.char(0x20).ipv4(view.data, view.offset + d); break
    case T.NS: case T.CNAME: case T.PTR: case T.DNAME:
      line.char(0x20)
      fqdn(line, view, m, d)
      break
    case T.MX:
      line.char(0x20)
      view.need(d, 2)
      fqdn(line, view, m, d + 2)
      line.char(0x20).dec(view.u16(d))
      break
    case T.TXT:
      for (let s = d; s < next;) {
        line.text(' "')
        const n = view.u8(s)
        printn(line, view, s + 1, n)
        line.char(0x22)
        s += 1 + n
      }
      break
    case T.SRV:
      line.char(0x20)
      view.need(d, 6)
      fqdn(line, view, m, d + 6)
      line.char(0x3a).dec(view.u16(d + 4)).char(0x20).dec(view.u16(d)).char(0x20).dec(view.u16(d + 2))
      break
    case T.AAAA: view.need(d, 16); line.char(0x20).address(view.data, view.offset + d, 16); break
    case T.URI:
      line.char(0x20).dec(view.u16(d)).char(0x20).dec(view.u16(d + 2)).char(0x20)
      printn(line, view, d + 4, len - 4)
      break
    case T.OPT:
      line.text(' UDPsize=').dec(cls)
      if (optFlags & 0x8000) line.text(' DO')
      break
    case T.UNSPECA: printn(line, view, d, len); break
  }
  return next
}

/** @param {import('netkit').InfoLine} line @param {number} type */
function typeName(line, type) {
  const n = TYPES.get(type)
  if (n !== undefined) line.char(0x20).text(n)
  else line.text(' Type').dec(type)
}

/** @param {import('netkit').InfoLine} line @param {number} cls */
function className(line, cls) {
  const n = CLASSES.get(cls)
  if (n !== undefined) line.char(0x20).text(n)
  else line.text(' (Class ').dec(cls).char(0x29)
}

/**
 * A name as tcpdump's fqdn_print writes it: labels with a dot after each, `.` for the root,
 * pointers followed only backwards. Returns the offset after the name where it started.
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 * @param {number} m @param {number} p
 */
function fqdn(line, view, m, p) {
  let len = view.u8(p)
  if ((len & 0xc0) === 0x40 || (len & 0xc0) === 0x80) { line.text('<BAD LABEL TYPE>'); throw TRUNCATED }
  if (len === 0) { line.char(0x2e); return p + 1 }
  let after = -1
  let maxOffset = p - m
  let chars = 0
  p++
  while (len !== 0) {
    if ((len & 0xc0) === 0xc0) {
      if (after < 0) after = p + 1
      const offset = ((len & 0x3f) << 8) | view.u8(p)
      if (offset >= maxOffset) { line.text('<BAD PTR>'); throw TRUNCATED }
      maxOffset = offset
      p = m + offset
      len = view.u8(p)
      if ((len & 0xc0) === 0x40 || (len & 0xc0) === 0x80) { line.text('<BAD LABEL TYPE>'); throw TRUNCATED }
      p++
      continue
    }
    if ((len & 0xc0) !== 0) { line.text('<BAD LABEL TYPE>'); throw TRUNCATED }
    if (chars + len <= MAX_NAME) printn(line, view, p, len)
    else if (chars < MAX_NAME) printn(line, view, p, MAX_NAME - chars)
    chars += len
    p += len
    if (chars <= MAX_NAME) line.char(0x2e)
    chars++
    len = view.u8(p)
    if ((len & 0xc0) === 0x40 || (len & 0xc0) === 0x80) { line.text('<BAD LABEL TYPE>'); throw TRUNCATED }
    p++
  }
  if (chars > MAX_NAME) line.text('<DOMAIN NAME TOO LONG>')
  return after >= 0 ? after : p
}

/**
 * Bytes as tcpdump's nd_printn shows them: `M-` before a byte past ASCII, `^` and the byte
 * xor 0x40 for a control character. Ends the line as truncated where the capture ends.
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view @param {number} at @param {number} n
 */
function printn(line, view, at, n) {
  for (let i = 0; i < n; i++) {
    let c = view.u8(at + i)
    if (c >= 0x80) { c &= 0x7f; line.text('M-') }
    if (c < 0x20 || c === 0x7f) { c ^= 0x40; line.char(0x5e) }
    line.char(c)
  }
}
