// @ts-check
// MPLS label stack (RFC 3032), over Ethernet and over UDP (RFC 7510, port 6635); after the
// bottom of the stack the payload is IPv4 or IPv6 by its version nibble.
import { defineDissector, EtherType, Table } from 'netkit/plugin'

export default defineDissector({
  name: 'mpls',
  handsOn: ['ip.version'],
  title: 'MultiProtocol Label Switching Header',
  fields: {
    label: { name: 'mpls.label', type: 'uint', label: 'MPLS Label' },
    exp: { name: 'mpls.exp', type: 'uint', label: 'MPLS Experimental Bits' },
    bottom: { name: 'mpls.bottom', type: 'uint', label: 'MPLS Bottom Of Label Stack' },
    ttl: { name: 'mpls.ttl', type: 'uint', label: 'MPLS TTL' },
  },
  register: [{ table: Table.ETHERTYPE, key: EtherType.MPLS }, { table: Table.ETHERTYPE, key: EtherType.MPLS_MULTICAST }, { table: 'udp.port', key: 6635 }],
  dissect(view, ctx, f) {
    let at = 0
    for (;;) {
      const w = view.u32(at)
      ctx.set(f.label, w >>> 12)
      ctx.set(f.exp, (w >>> 9) & 7)
      ctx.set(f.bottom, (w >>> 8) & 1)
      ctx.set(f.ttl, w & 0xff)
      at += 4
      if (w & 0x100) break
    }
    const v = view.u8(at) >> 4
    if (v === 4 || v === 6) ctx.next('ip.version', v, at)
  },
})
