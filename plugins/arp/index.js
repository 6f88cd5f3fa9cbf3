// @ts-check
// ARP (RFC 826) for Ethernet/IPv4 and other hardware/protocol sizes.
import { defineDissector, EtherType, Table } from 'netkit/plugin'

export default defineDissector({
  name: 'arp',
  handsOn: [],
  title: 'Address Resolution Protocol',
  fields: {
    hwType: { name: 'arp.hw.type', type: 'uint', label: 'Hardware type' },
    protoType: { name: 'arp.proto.type', type: 'uint', hexDigits: 4, label: 'Protocol type' },
    hwSize: { name: 'arp.hw.size', type: 'uint', label: 'Hardware size' },
    protoSize: { name: 'arp.proto.size', type: 'uint', label: 'Protocol size' },
    opcode: { name: 'arp.opcode', type: 'uint', label: 'Opcode' },
    srcHw: { name: 'arp.src.hw_mac', type: 'ether', label: 'Sender MAC address' },
    srcProto: { name: 'arp.src.proto_ipv4', type: 'ipv4', label: 'Sender IP address' },
    dstHw: { name: 'arp.dst.hw_mac', type: 'ether', label: 'Target MAC address' },
    dstProto: { name: 'arp.dst.proto_ipv4', type: 'ipv4', label: 'Target IP address' },
  },
  register: [{ table: Table.ETHERTYPE, key: EtherType.ARP }],
  dissect(view, ctx, f) {
    ctx.add(f.hwType, 0, 2)
    const ptype = ctx.add(f.protoType, 2, 2)
    const hln = ctx.add(f.hwSize, 4, 1)
    const pln = ctx.add(f.protoSize, 5, 1)
    const op = ctx.add(f.opcode, 6, 2)
    const ether = hln === 6
    const ipv4 = pln === 4 && ptype === EtherType.IPV4
    let at = 8
    if (ether) ctx.add(f.srcHw, at, 6)
    at += hln
    if (ipv4) ctx.add(f.srcProto, at, 4)
    const spa = at
    at += pln
    if (ether) ctx.add(f.dstHw, at, 6)
    at += hln
    if (ipv4) ctx.add(f.dstProto, at, 4)
    const tpa = at
    view.need(at, pln)
    if (ctx.wantsInfo) {
      const ip = (/** @type {number} */ o) => ipv4 ? `${view.u8(o)}.${view.u8(o + 1)}.${view.u8(o + 2)}.${view.u8(o + 3)}` : '?'
      // tcpdump ends the line with the length of the ARP packet as the link carried it (print-arp.c).
      ctx.info(`${op === 1 ? `ARP, Request who-has ${ip(tpa)} tell ${ip(spa)}` : op === 2 ? `ARP, Reply ${ip(spa)} is-at ${hex(view, 8, hln)}` : `ARP, opcode ${op}`}, length ${view.reported}`)
    }
  },
})

/** @param {import('netkit').ByteView} view @param {number} at @param {number} n */
function hex(view, at, n) {
  let s = ''
  for (let i = 0; i < n; i++) s += (i ? ':' : '') + view.u8(at + i).toString(16).padStart(2, '0')
  return s
}
