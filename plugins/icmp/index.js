// @ts-check
// ICMP (RFC 792). Error messages carry the offending datagram's header, decoded as IP again
// (as Wireshark does: ip:icmp:ip:udp).
import { defineDissector, IpProto, Table } from 'netkit/plugin'

const ERRORS = new Set([3, 4, 5, 11, 12])
const NAMES = { 0: 'echo reply', 3: 'unreachable', 5: 'redirect', 8: 'echo request', 11: 'time exceeded', 12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply' }

export default defineDissector({
  name: 'icmp',
  handsOn: ['ip.version'],
  title: 'Internet Control Message Protocol',
  fields: {
    type: { name: 'icmp.type', type: 'uint', label: 'Type' },
    code: { name: 'icmp.code', type: 'uint', label: 'Code' },
    checksum: { name: 'icmp.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
    ident: { name: 'icmp.ident', type: 'uint', label: 'Identifier (BE)' },
    seq: { name: 'icmp.seq', type: 'uint', label: 'Sequence Number (BE)' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.ICMP }],
  dissect(view, ctx, f) {
    const type = ctx.add(f.type, 0, 1)
    ctx.add(f.code, 1, 1)
    ctx.add(f.checksum, 2, 2)
    if (type === 0 || type === 8) {
      const id = ctx.add(f.ident, 4, 2)
      const seq = ctx.add(f.seq, 6, 2)
      if (ctx.wantsInfo) prefix(view, ctx).text('ICMP ').text(NAMES[type]).text(', id ').dec(id).text(', seq ').dec(seq).text(', length ').dec(view.reported)
      return
    }
    if (ctx.wantsInfo) {
      const line = prefix(view, ctx).text('ICMP ')
      const name = NAMES[/** @type {keyof NAMES} */ (type)]
      if (name !== undefined) line.text(name)
      else line.text('type ').dec(type)
      line.text(', length ').dec(view.reported)
    }
    if (ERRORS.has(type) && view.captured > 8) {
      ctx.inError()
      ctx.next('ip.version', view.u8(8) >> 4, 8)
    }
  },
})

/**
 * Starts the summary line: "IP a > b: " over IPv4 (nothing otherwise); returns it for the rest.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 */
function prefix(view, ctx) {
  const line = ctx.infoLine()
  return ctx.addrLength === 4 ? line.text('IP ').ipv4(view.data, ctx.srcOffset).text(' > ').ipv4(view.data, ctx.dstOffset).text(': ') : line
}
