// @ts-check
// IPv6 (RFC 8200) and its extension headers, each a layer as Wireshark shows them
// (ipv6.hopopts, ipv6.routing, ipv6.fraghdr, ipv6.dstopts); the payload goes to ip.proto.
import { defineDissector, EtherType, FragmentTable, IpProto, LinkType, Table } from 'netkit/plugin'

/** Fragment state of the run: datagrams keyed by addresses and identification (RFC 8200 section 4.5). */
const newFragmentTable = () => new FragmentTable({ headroom: 32 })

const ipv6 = defineDissector({
  name: 'ipv6',
  handsOn: ['ip.proto'],
  title: 'Internet Protocol Version 6',
  fields: {
    version: { name: 'ipv6.version', type: 'uint', label: 'Version' },
    ipVersion: { name: 'ip.version', type: 'uint', label: 'Version' },
    tclass: { name: 'ipv6.tclass', type: 'uint', hexDigits: 2, label: 'Traffic Class' },
    flow: { name: 'ipv6.flow', type: 'uint', hexDigits: 5, label: 'Flow Label' },
    plen: { name: 'ipv6.plen', type: 'uint', label: 'Payload Length' },
    nxt: { name: 'ipv6.nxt', type: 'uint', label: 'Next Header' },
    hlim: { name: 'ipv6.hlim', type: 'uint', label: 'Hop Limit' },
    src: { name: 'ipv6.src', type: 'ipv6', label: 'Source Address' },
    dst: { name: 'ipv6.dst', type: 'ipv6', label: 'Destination Address' },
    addr: { name: 'ipv6.addr', type: 'ipv6', label: 'Source or Destination Address' },
  },
  register: [{ table: Table.ETHERTYPE, key: EtherType.IPV6 }, { table: Table.IP_VERSION, key: 6 }, { table: Table.LINK, key: LinkType.IPV6 }],
  dissect(view, ctx, f) {
    const w = view.u32(0)
    const version = w >>> 28
    ctx.set(f.ipVersion, version)
    ctx.set(f.version, version)
    if (version !== 6) return ctx.malformed(`bogus IPv6 version (${version})`)
    ctx.set(f.tclass, (w >>> 20) & 0xff)
    ctx.set(f.flow, w & 0xfffff)
    const plen = ctx.add(f.plen, 4, 2)
    const nxt = ctx.add(f.nxt, 6, 1)
    ctx.add(f.hlim, 7, 1)
    ctx.add(f.src, 8, 16)
    ctx.add(f.dst, 24, 16)
    if (ctx.wants(f.addr)) { ctx.add(f.addr, 8, 16); ctx.add(f.addr, 24, 16) }
    ctx.setAddresses(view.offset + 8, view.offset + 24, 16)
    if (ctx.wantsInfo) ctx.infoLine().text('IP6 ').address(view.data, view.offset + 8, 16).text(' > ').address(view.data, view.offset + 24, 16)
    // A jumbogram says 0 here (RFC 2675); otherwise the payload length bounds the layers above.
    if (plen !== 0) ctx.limit(0, 40 + plen)
    ctx.next('ip.proto', nxt, 40)
  },
})

/**
 * An extension header with the generic (next header, length in 8-octet units) layout.
 * @param {string} name @param {string} title @param {number} proto
 */
function extension(name, title, proto) {
  return defineDissector({
    name,
    title,
    handsOn: ['ip.proto'],
    fields: {
      nxt: { name: `${name}.nxt`, type: 'uint', label: 'Next Header' },
      len: { name: `${name}.len`, type: 'uint', label: 'Length' },
    },
    register: [{ table: 'ip.proto', key: proto }],
    dissect(view, ctx, f) {
      const nxt = ctx.add(f.nxt, 0, 1)
      const len = ctx.add(f.len, 1, 1)
      ctx.next('ip.proto', nxt, (len + 1) * 8)
    },
  })
}

/**
 * The fragment header (RFC 8200 section 4.5). Fragments are reassembled as Wireshark does by
 * default: the datagram is handed on at the frame whose fragment completes it.
 */
const fragment = defineDissector({
  name: 'ipv6.fraghdr',
  handsOn: ['ip.proto', 'ip.fragment'],
  title: 'IPv6 Fragment Header',
  fields: {
    nxt: { name: 'ipv6.fraghdr.nxt', type: 'uint', label: 'Next header' },
    offset: { name: 'ipv6.fraghdr.offset', type: 'uint', label: 'Offset' },
    more: { name: 'ipv6.fraghdr.more', type: 'bool', label: 'More Fragments' },
    ident: { name: 'ipv6.fraghdr.ident', type: 'uint', hexDigits: 8, label: 'Identification' },
    fragment: { name: 'ipv6.fragment', type: 'uint', label: 'IPv6 Fragment' },
    fragmentCount: { name: 'ipv6.fragment.count', type: 'uint', label: 'Fragment count' },
    reassembledIn: { name: 'ipv6.reassembled.in', type: 'uint', label: 'Reassembled IPv6 in frame' },
    reassembledLength: { name: 'ipv6.reassembled.length', type: 'uint', label: 'Reassembled IPv6 length' },
    reassembledData: { name: 'ipv6.reassembled.data', type: 'bytes', label: 'Reassembled IPv6 data' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.FRAGMENT }],
  dissect(view, ctx, f) {
    const nxt = ctx.add(f.nxt, 0, 1)
    const w = view.u16(2)
    ctx.set(f.offset, w >> 3)
    ctx.set(f.more, w & 1)
    const ident = ctx.add(f.ident, 4, 4)
    if ((w >> 3) === 0 && (w & 1) === 0) return ctx.next('ip.proto', nxt, 8)
    if (!view.has(0, view.reported) || ctx.addrLength !== 16) return ctx.next('ip.fragment', nxt, 8)
    const table = ctx.state('ipv6.fragments', newFragmentTable)
    const d = view.data
    const key = `${d.toString('latin1', ctx.srcOffset, ctx.srcOffset + 16)}${d.toString('latin1', ctx.dstOffset, ctx.dstOffset + 16)}${ident}`
    const done = table.add(key, ctx.frame, ctx.sec, (w >> 3) * 8, d, view.offset + 8, view.offset + view.reported, (w & 1) === 1)
    if (done === undefined) {
      const frame = table.completedIn(key)
      if (frame !== 0) ctx.set(f.reassembledIn, frame)
      return ctx.next('ip.fragment', nxt, 8)
    }
    for (const frame of done.frames) ctx.set(f.fragment, frame)
    ctx.set(f.fragmentCount, done.frames.length)
    ctx.set(f.reassembledLength, done.length)
    ctx.setBytes(f.reassembledData, done.data, 32, done.length)
    // The layers above read the datagram, with its addresses in front of it (the headroom).
    d.copy(done.data, 0, ctx.srcOffset, ctx.srcOffset + 16)
    d.copy(done.data, 16, ctx.dstOffset, ctx.dstOffset + 16)
    ctx.setAddresses(0, 16, 16)
    // Its summary line stays the fragment's, as tcpdump (which does not reassemble) prints it.
    if (ctx.wantsInfo) ctx.infoDone()
    ctx.nextBytes('ip.proto', nxt, done.data, 32)
  },
})

export default [
  ipv6,
  extension('ipv6.hopopts', 'IPv6 Hop-by-Hop Option', IpProto.HOPOPTS),
  extension('ipv6.routing', 'Routing Header for IPv6', IpProto.ROUTING),
  extension('ipv6.dstopts', 'Destination Options for IPv6', IpProto.DSTOPTS),
  fragment,
]
