// @ts-check
// Link types without a link header: LINKTYPE_RAW (tshark's "raw" layer, then IP by version),
// (LINKTYPE_IPV4/IPV6 go straight to the ip/ipv6 dissectors), and BSD loopback NULL/LOOP (a 4-byte address family).
import { defineDissector, LinkType, Table } from 'netkit/plugin'

/** LINKTYPE_RAW: IPv4 or IPv6 by the version nibble. */
export const raw = defineDissector({
  name: 'raw',
  handsOn: ['ip.version'],
  title: 'Raw packet data',
  fields: {},
  register: [{ table: Table.LINK, key: LinkType.RAW }],
  dissect(view, ctx) {
    ctx.next('ip.version', view.u8(0) >> 4, 0)
  },
})

/** BSD loopback: NULL (family in the writer's byte order) and LOOP (network order). */
export const loopback = defineDissector({
  name: 'null',
  handsOn: ['ip.version'],
  title: 'Null/Loopback',
  fields: { family: { name: 'null.family', type: 'uint', label: 'Family' } },
  register: [{ table: Table.LINK, key: LinkType.NULL }, { table: Table.LINK, key: LinkType.LOOP }],
  dissect(view, ctx, f) {
    let family = ctx.linkType === 108 ? view.u32(0) : view.u32le(0)
    if (family > 0xffff) family = view.u32(0)
    ctx.set(f.family, family)
    // AF_INET is 2 everywhere; AF_INET6 is 10, 24, 28 or 30 depending on the OS.
    if (family === 2) ctx.next('ip.version', 4, 4)
    else if (family === 10 || family === 24 || family === 28 || family === 30) ctx.next('ip.version', 6, 4)
  },
})

export default [raw, loopback]
