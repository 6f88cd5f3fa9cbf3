// @ts-check
// VXLAN (RFC 7348) on UDP 4789, with the Group Based Policy extension's flags
// (draft-smith-vxlan-group-policy) as Wireshark shows them. The inner Ethernet frame is handed
// on. Port 8472 (Linux's old default) is OTV to tcpdump and nothing to tshark, so it is not
// claimed by default.
import { defineDissector, LinkType, Table, Port } from 'netkit/plugin'

/** The I flag: the VNI is valid (RFC 7348 section 5). */
const FLAG_I = 0x08

export default defineDissector({
  name: 'vxlan',
  title: 'Virtual eXtensible Local Area Network',
  handsOn: [Table.LINK],
  fields: {
    flags: { name: 'vxlan.flags', type: 'uint', hexDigits: 4, label: 'Flags' },
    flagG: { name: 'vxlan.flag_g', type: 'bool', label: 'GBP Extension' },
    flagI: { name: 'vxlan.flag_i', type: 'bool', label: 'VXLAN Network ID (VNI)' },
    flagD: { name: 'vxlan.flag_d', type: 'bool', label: "Don't Learn" },
    flagA: { name: 'vxlan.flag_a', type: 'bool', label: 'Policy Applied' },
    flagsReserved: { name: 'vxlan.flags_reserved', type: 'uint', hexDigits: 4, label: 'Reserved(R)' },
    gbp: { name: 'vxlan.gbp', type: 'uint', label: 'Group Policy ID' },
    vni: { name: 'vxlan.vni', type: 'uint', label: 'VXLAN Network Identifier (VNI)' },
    reserved8: { name: 'vxlan.reserved8', type: 'uint', label: 'Reserved' },
  },
  register: [{ table: Table.UDP_PORT, key: Port.VXLAN }],
  dissect(view, ctx, f) {
    const flags = ctx.add(f.flags, 0, 2)
    ctx.set(f.flagG, (flags >> 15) & 1)
    ctx.set(f.flagI, (flags >> 11) & 1)
    ctx.set(f.flagD, (flags >> 6) & 1)
    ctx.set(f.flagA, (flags >> 3) & 1)
    ctx.set(f.flagsReserved, flags & 0x77b7)
    ctx.add(f.gbp, 2, 2)
    const vni = ctx.add(f.vni, 4, 3)
    ctx.add(f.reserved8, 7, 1)
    if (ctx.wantsInfo) {
      // tcpdump prints the header, a line break, then the inner frame's line (print-vxlan.c).
      const b = flags >> 8
      ctx.infoFromMark().text(': VXLAN, flags [').text(b & FLAG_I ? 'I' : 'invalid').text('] (0x').hex(b, 2)
        .text('), vni ').dec(vni).char(0x0a)
      ctx.infoPrefix()
    }
    ctx.next(Table.LINK, LinkType.EN10MB, 8)
  },
})
