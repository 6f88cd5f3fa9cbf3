// @ts-check
// PPP in HDLC-like framing (LINKTYPE_PPP, RFC 1662): address and control (0xff 0x03) when
// present, then the protocol number. IPv4 and IPv6 are handed on.
import { defineDissector, LinkType, PppProtocol, Table } from 'netkit/plugin'

export default defineDissector({
  name: 'ppp',
  handsOn: ['ip.version'],
  title: 'Point-to-Point Protocol',
  fields: {
    address: { name: 'ppp.address', type: 'uint', hexDigits: 2, label: 'Address' },
    control: { name: 'ppp.control', type: 'uint', hexDigits: 2, label: 'Control' },
    protocol: { name: 'ppp.protocol', type: 'uint', hexDigits: 4, label: 'Protocol' },
  },
  register: [{ table: Table.LINK, key: LinkType.PPP }],
  dissect(view, ctx, f) {
    let at = 0
    if (view.u8(0) === 0xff && view.u8(1) === 0x03) {
      ctx.add(f.address, 0, 1)
      ctx.add(f.control, 1, 1)
      at = 2
    }
    // The protocol field is one byte when its low bit is set (RFC 1661 section 2).
    const first = view.u8(at)
    const proto = first & 1 ? first : ctx.add(f.protocol, at, 2)
    if (first & 1) ctx.set(f.protocol, proto)
    const len = first & 1 ? 1 : 2
    if (proto === PppProtocol.IPV4) ctx.next(Table.IP_VERSION, 4, at + len)
    else if (proto === PppProtocol.IPV6) ctx.next(Table.IP_VERSION, 6, at + len)
  },
})
