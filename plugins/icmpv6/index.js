// @ts-check
// ICMPv6 (RFC 4443). Error messages (types 1-4) carry the offending packet, decoded as IPv6.
import { defineDissector, IpProto, Table } from 'netkit/plugin'

const NAMES = { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem', 128: 'echo request', 129: 'echo reply', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement', 143: 'multicast listener report v2' }

export default defineDissector({
  name: 'icmpv6',
  handsOn: ['ip.version'],
  title: 'Internet Control Message Protocol v6',
  fields: {
    type: { name: 'icmpv6.type', type: 'uint', label: 'Type' },
    code: { name: 'icmpv6.code', type: 'uint', label: 'Code' },
    checksum: { name: 'icmpv6.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.ICMPV6 }],
  dissect(view, ctx, f) {
    const type = ctx.add(f.type, 0, 1)
    ctx.add(f.code, 1, 1)
    ctx.add(f.checksum, 2, 2)
    if (ctx.wantsInfo) ctx.info(`ICMP6, ${NAMES[/** @type {keyof NAMES} */ (type)] ?? `type ${type}`}, length ${view.reported}`, true)
    if (type >= 1 && type <= 4 && view.captured > 8) {
      ctx.inError()
      ctx.next('ip.version', view.u8(8) >> 4, 8)
    }
  },
})
