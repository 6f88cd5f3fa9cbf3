// @ts-check
// IPv4 (RFC 791): header fields, options, fragments; the payload goes to the ip.proto table.
// Fragments other than a whole datagram are not handed on (netkit does not reassemble IP).
// The header checksum status is 2 (unverified), as tshark reports it by default.
import { defineDissector } from 'netkit'

export default defineDissector({
  name: 'ip',
  handsOn: ['ip.proto'],
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
  },
  register: [{ table: 'ethertype', key: 0x0800 }, { table: 'ip.version', key: 4 }, { table: 'link', key: 228 }],
  dissect(view, ctx, f) {
    const b0 = view.u8(0)
    const version = b0 >> 4
    ctx.set(f.version, version)
    const hl = (b0 & 0x0f) * 4
    ctx.set(f.hdrLen, hl)
    if (version !== 4) return ctx.malformed(`bogus IP version (${version})`)
    if (hl < 20) return ctx.malformed(`bogus IP header length (${hl}, must be at least 20)`)
    const ds = ctx.add(f.dsfield, 1, 1)
    ctx.set(f.dscp, ds >> 2)
    ctx.set(f.ecn, ds & 3)
    let total = view.u16(2)
    // A total length of 0 on a segmentation-offload capture (TSO/GSO, BIG TCP) means "all of it".
    if (total === 0 && view.reported > 65535) total = view.reported
    ctx.set(f.len, total)
    ctx.add(f.id, 4, 2)
    const fo = view.u16(6)
    ctx.set(f.flags, fo >> 13)
    ctx.set(f.rb, (fo >> 15) & 1)
    ctx.set(f.df, (fo >> 14) & 1)
    ctx.set(f.mf, (fo >> 13) & 1)
    ctx.set(f.fragOffset, (fo & 0x1fff) * 8)
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
    if ((fo & 0x3fff) !== 0) return // a fragment: not reassembled
    ctx.next('ip.proto', proto, hl)
  },
  // What tcpdump -n prints for a datagram nothing above decodes (or a fragment).
  summary(view, ctx) {
    const d = view.data, o = view.offset
    const hl = (view.u8(0) & 0x0f) * 4
    let total = view.u16(2)
    if (total === 0 && view.reported > 65535) total = view.reported
    ctx.infoLine().text('IP ').ipv4(d, o + 12).text(' > ').ipv4(d, o + 16).text(': ip-proto-').dec(view.u8(9)).char(0x20).dec(total - hl)
  },
})
