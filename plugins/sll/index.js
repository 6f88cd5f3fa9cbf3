// @ts-check
// Linux "cooked" capture headers, v1 (LINKTYPE_LINUX_SLL, 16 bytes) and v2 (LINKTYPE_LINUX_SLL2,
// 20 bytes), as written for `-i any`. See: https://www.tcpdump.org/linktypes/LINKTYPE_LINUX_SLL2.html
import { defineDissector, LinkType, Table } from 'netkit/plugin'

const PKTTYPE = ['In', 'B', 'M', 'P', 'Out']

export default defineDissector({
  name: 'sll',
  handsOn: ['ethertype'],
  title: 'Linux cooked capture',
  fields: {
    pkttype: { name: 'sll.pkttype', type: 'uint', label: 'Packet type' },
    hatype: { name: 'sll.hatype', type: 'uint', label: 'Link-layer address type' },
    halen: { name: 'sll.halen', type: 'uint', label: 'Link-layer address length' },
    src: { name: 'sll.src.eth', type: 'ether', label: 'Source' },
    ifindex: { name: 'sll.ifindex', type: 'uint', label: 'Interface index' },
    etype: { name: 'sll.etype', type: 'uint', hexDigits: 4, label: 'Protocol' },
  },
  register: [{ table: Table.LINK, key: LinkType.LINUX_SLL }, { table: Table.LINK, key: LinkType.LINUX_SLL2 }],
  dissect(view, ctx, f) {
    let type, pkttype, header
    if (ctx.linkType === 276) {
      type = ctx.add(f.etype, 0, 2)
      ctx.add(f.ifindex, 4, 4)
      ctx.add(f.hatype, 8, 2)
      pkttype = ctx.add(f.pkttype, 10, 1)
      const halen = ctx.add(f.halen, 11, 1)
      if (halen === 6) ctx.add(f.src, 12, 6)
      header = 20
    } else {
      pkttype = ctx.add(f.pkttype, 0, 2)
      ctx.add(f.hatype, 2, 2)
      const halen = ctx.add(f.halen, 4, 2)
      if (halen === 6) ctx.add(f.src, 6, 6)
      type = ctx.add(f.etype, 14, 2)
      header = 16
    }
    if (ctx.wantsInfo) ctx.info(`${PKTTYPE[pkttype] ?? pkttype} ethertype 0x${type.toString(16).padStart(4, '0')}`)
    ctx.next('ethertype', type, header)
  },
})
