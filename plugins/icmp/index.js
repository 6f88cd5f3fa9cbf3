// @ts-check
// ICMP (RFC 792). Error messages carry the offending datagram's header, decoded as IP again
// (as Wireshark does: ip:icmp:ip:udp).
import { defineDissector } from 'netkit'

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
  register: [{ table: 'ip.proto', key: 1 }],
  dissect(view, ctx, f) {
    const type = ctx.add(f.type, 0, 1)
    ctx.add(f.code, 1, 1)
    ctx.add(f.checksum, 2, 2)
    if (type === 0 || type === 8) {
      const id = ctx.add(f.ident, 4, 2)
      const seq = ctx.add(f.seq, 6, 2)
      if (ctx.wantsInfo) ctx.info(`${prefix(ctx)}ICMP ${NAMES[type]}, id ${id}, seq ${seq}, length ${view.reported}`)
      return
    }
    if (ctx.wantsInfo) ctx.info(`${prefix(ctx)}ICMP ${NAMES[/** @type {keyof NAMES} */ (type)] ?? `type ${type}`}, length ${view.reported}`)
    if (ERRORS.has(type) && view.captured > 8) ctx.next('ip.version', view.u8(8) >> 4, 8)
  },
})

/** @param {import('netkit').DissectContext} ctx */
function prefix(ctx) {
  return ctx.addrLength === 4 ? `IP ${ctx.addressText('src')} > ${ctx.addressText('dst')}: ` : ''
}
