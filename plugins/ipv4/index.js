// @ts-check
// IPv4 (RFC 791): header fields, options, fragments; the payload goes to the ip.proto table.
// Fragments are reassembled as Wireshark does by default: the datagram is handed on at the
// frame whose fragment completes it, the fragments before show as data.
// The header checksum status is 2 (unverified), as tshark reports it by default.
import { defineDissector, EtherType, FragmentTable, LinkType, Table } from 'netkit/plugin'

/** Fragment state of the run: datagrams keyed by addresses, identification and protocol (RFC 791 section 3.2). */
const newFragmentTable = () => new FragmentTable({ headroom: 8 })

export default defineDissector({
  name: 'ip',
  handsOn: ['ip.proto', 'ip.fragment'],
  title: 'Internet Protocol Version 4',
  fields: {
    version: { name: 'ip.version', type: 'uint', label: 'Version' },
    hdrLen: { name: 'ip.hdr_len', type: 'uint', label: 'Header Length' },
    dsfield: { name: 'ip.dsfield', type: 'uint', hexDigits: 2, label: 'Differentiated Services Field' },
    dscp: { name: 'ip.dsfield.dscp', type: 'uint', label: 'Differentiated Services Codepoint' },
    ecn: { name: 'ip.dsfield.ecn', type: 'uint', label: 'Explicit Congestion Notification' },
    len: { name: 'ip.len', type: 'uint', label: 'Total Length' },
    id: { name: 'ip.id', type: 'uint', hexDigits: 4, label: 'Identification' },
    flags: { name: 'ip.flags', type: 'uint', hexDigits: 2, label: 'Flags' },
    rb: { name: 'ip.flags.rb', type: 'bool', label: 'Reserved bit' },
    df: { name: 'ip.flags.df', type: 'bool', label: "Don't fragment" },
    mf: { name: 'ip.flags.mf', type: 'bool', label: 'More fragments' },
    fragOffset: { name: 'ip.frag_offset', type: 'uint', label: 'Fragment Offset' },
    ttl: { name: 'ip.ttl', type: 'uint', label: 'Time to Live' },
    proto: { name: 'ip.proto', type: 'uint', label: 'Protocol' },
    checksum: { name: 'ip.checksum', type: 'uint', hexDigits: 4, label: 'Header Checksum' },
    checksumStatus: { name: 'ip.checksum.status', type: 'uint', label: 'Header checksum status' },
    src: { name: 'ip.src', type: 'ipv4', label: 'Source Address' },
    dst: { name: 'ip.dst', type: 'ipv4', label: 'Destination Address' },
    addr: { name: 'ip.addr', type: 'ipv4', label: 'Source or Destination Address' },
    optType: { name: 'ip.opt.type', type: 'uint', label: 'Option type' },
    fragment: { name: 'ip.fragment', type: 'uint', label: 'IPv4 Fragment' },
    fragmentCount: { name: 'ip.fragment.count', type: 'uint', label: 'Fragment count' },
    fragments: { name: 'ip.fragments', type: 'bytes', label: 'IPv4 Fragments' },
    reassembledIn: { name: 'ip.reassembled_in', type: 'uint', label: 'Reassembled IPv4 in frame' },
    reassembledLength: { name: 'ip.reassembled.length', type: 'uint', label: 'Reassembled IPv4 length' },
    reassembledData: { name: 'ip.reassembled.data', type: 'bytes', label: 'Reassembled IPv4 data' },
  },
  register: [{ table: Table.ETHERTYPE, key: EtherType.IPV4 }, { table: Table.IP_VERSION, key: 4 }, { table: Table.LINK, key: LinkType.IPV4 }],
  dissect(view, ctx, f) {
    const b0 = view.u8(0)
    const version = b0 >> 4
    ctx.set(f.version, version)
    const hl = (b0 & 0x0f) * 4
    // Wireshark shows no header length for a datagram of another version.
    if (version !== 4) return ctx.malformed(`bogus IP version (${version})`)
    ctx.set(f.hdrLen, hl)
    if (hl < 20) return ctx.malformed(`bogus IP header length (${hl}, must be at least 20)`)
    const ds = ctx.add(f.dsfield, 1, 1)
    ctx.set(f.dscp, ds >> 2)
    ctx.set(f.ecn, ds & 3)
    let total = view.u16(2)
    // A total length of 0 is a segmentation-offload capture (TSO/GSO, BIG TCP): the datagram is
    // all the bytes the link carries (tshark's "ip.tso_support", on by default).
    if (total === 0) total = view.reported
    ctx.set(f.len, total)
    ctx.add(f.id, 4, 2)
    const fo = view.u16(6)
    ctx.set(f.flags, fo >> 13)
    ctx.set(f.rb, (fo >> 15) & 1)
    ctx.set(f.df, (fo >> 14) & 1)
    ctx.set(f.mf, (fo >> 13) & 1)
    // The 13-bit field's value, in units of 8 bytes (as tshark 4.0 prints ip.frag_offset).
    ctx.set(f.fragOffset, fo & 0x1fff)
    ctx.add(f.ttl, 8, 1)
    const proto = ctx.add(f.proto, 9, 1)
    ctx.add(f.checksum, 10, 2)
    ctx.set(f.checksumStatus, 2)
    ctx.add(f.src, 12, 4)
    ctx.add(f.dst, 16, 4)
    if (ctx.wants(f.addr)) { ctx.add(f.addr, 12, 4); ctx.add(f.addr, 16, 4) }
    ctx.setAddresses(view.offset + 12, view.offset + 16, 4)
    if (ctx.wants(f.optType)) {
      for (let p = 20; p < hl;) {
        const t = view.u8(p)
        ctx.set(f.optType, t)
        if (t === 0) break
        if (t === 1) { p++; continue }
        const l = view.u8(p + 1)
        if (l < 2) break
        p += l
      }
    }
    if (total < hl) return ctx.malformed(`bogus IP length (${total}, less than header length ${hl})`)
    ctx.limit(0, total)
    if ((fo & 0x3fff) === 0) return ctx.next('ip.proto', proto, hl)
    reassemble(view, ctx, f, fo, hl, total, proto)
  },
  // What tcpdump -n prints for a datagram nothing above decodes (or a fragment).
  summary(view, ctx) {
    const d = view.data, o = view.offset
    const hl = (view.u8(0) & 0x0f) * 4
    let total = view.u16(2)
    if (total === 0) total = view.reported
    const line = ctx.infoLine().text('IP ').ipv4(d, o + 12).text(' > ').ipv4(d, o + 16).text(': ip-proto-').dec(view.u8(9))
    // tcpdump prints no length for a fragment after the first (print-ip.c).
    if ((view.u16(6) & 0x1fff) === 0) line.char(0x20).dec(total - hl)
  },
})

/**
 * Adds a fragment to the run's table and hands the datagram on when it is complete; otherwise
 * the fragment's payload is data. A fragment not wholly captured cannot be added.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f @param {number} fo @param {number} hl @param {number} total
 * @param {number} proto
 */
function reassemble(view, ctx, f, fo, hl, total, proto) {
  if (!view.has(0, total)) return ctx.next('ip.fragment', proto, hl)
  const table = ctx.state('ip.fragments', newFragmentTable)
  const d = view.data, o = view.offset
  const key = `${d.toString('latin1', o + 12, o + 20)}${view.u16(4)}/${proto}`
  const done = table.add(key, ctx.frame, ctx.sec, (fo & 0x1fff) * 8, d, o + hl, o + total, (fo & 0x2000) !== 0)
  if (done === undefined) {
    const frame = table.completedIn(key)
    if (frame !== 0) ctx.set(f.reassembledIn, frame)
    return ctx.next('ip.fragment', proto, hl)
  }
  for (const frame of done.frames) ctx.set(f.fragment, frame)
  ctx.set(f.fragmentCount, done.frames.length)
  ctx.setBytes(f.fragments, done.data, 8, done.length)
  ctx.set(f.reassembledLength, done.length)
  ctx.setBytes(f.reassembledData, done.data, 8, done.length)
  // The layers above read the datagram: its addresses go in front of it (the headroom).
  d.copy(done.data, 0, o + 12, o + 20)
  ctx.setAddresses(0, 4, 4)
  // Its summary line stays the fragment's, as tcpdump (which does not reassemble) prints it.
  if (ctx.wantsInfo) ctx.infoDone()
  ctx.nextBytes('ip.proto', proto, done.data, 8)
}
