// @ts-check
// Ethernet II with 802.1Q (vlan) and 802.1ad (ieee8021ad) tags: each tag is a layer of its
// own that hands on to the ethertype table, as Wireshark shows them (eth:ethertype:vlan:...).
import { defineDissector, EtherType, LinkType, Table } from 'netkit/plugin'

/** Where an 802.3 frame (a length, not a type, after the addresses) goes on: the LLC header. */
const IEEE8023 = 'ieee802.3'

/** Ethernet II (LINKTYPE_ETHERNET). */
export const ethernet = defineDissector({
  name: 'eth',
  handsOn: ['ethertype', IEEE8023],
  title: 'Ethernet II',
  fields: {
    dst: { name: 'eth.dst', type: 'ether', label: 'Destination' },
    src: { name: 'eth.src', type: 'ether', label: 'Source' },
    type: { name: 'eth.type', type: 'uint', hexDigits: 4, label: 'Type' },
    len: { name: 'eth.len', type: 'uint', label: 'Length' },
  },
  // Also the frame inside GRE's transparent Ethernet bridging (gretap) and Geneve.
  register: [{ table: Table.LINK, key: LinkType.EN10MB }, { table: Table.GRE_PROTO, key: EtherType.TEB }],
  dissect(view, ctx, f) {
    ctx.add(f.dst, 0, 6)
    ctx.add(f.src, 6, 6)
    const type = view.u16(12)
    if (type <= 1500) {
      // IEEE 802.3 length field: the LLC header follows, and the length bounds the frame.
      ctx.set(f.len, type)
      ctx.limit(14, type)
      return ctx.next(IEEE8023, 0, 14)
    }
    ctx.set(f.type, type)
    ctx.next('ethertype', type, 14)
  },
  // What tcpdump -n prints for a frame nothing above decodes.
  summary(view, ctx) {
    const type = view.u16(12)
    if (type <= 1500) return ctx.info(`802.3, length ${type}`)
    const d = view.data, o = view.offset
    ctx.infoLine().ether(d, o + 6).text(' > ').ether(d, o).text(', ethertype 0x').hex(type, 4).text(', length ').dec(view.reported)
  },
})

/** @param {string} name @param {string} title @param {number[]} types */
function tag(name, title, types) {
  return defineDissector({
    name,
    title,
    handsOn: ['ethertype', IEEE8023],
    fields: {
      priority: { name: `${name}.priority`, type: 'uint', label: 'Priority' },
      dei: { name: `${name}.dei`, type: 'uint', label: 'DEI' },
      id: { name: `${name}.id`, type: 'uint', label: 'ID' },
      etype: { name: `${name}.etype`, type: 'uint', hexDigits: 4, label: 'Type' },
      len: { name: `${name}.len`, type: 'uint', label: 'Length' },
    },
    register: types.map((key) => ({ table: 'ethertype', key })),
    dissect(view, ctx, f) {
      const tci = view.u16(0)
      ctx.set(f.priority, tci >> 13)
      ctx.set(f.dei, (tci >> 12) & 1)
      ctx.set(f.id, tci & 0x0fff)
      const type = view.u16(2)
      if (type <= EtherType.MAX_8023_LENGTH) {
        ctx.set(f.len, type)
        ctx.limit(4, type)
        return ctx.next(IEEE8023, 0, 4)
      }
      ctx.set(f.etype, type)
      ctx.next('ethertype', type, 4)
    },
  })
}

/** 802.1Q VLAN tag. */
export const vlan = tag('vlan', '802.1Q Virtual LAN', [EtherType.VLAN, EtherType.QINQ_OLD])
/** 802.1ad provider bridge (QinQ) tag. */
export const qinq = tag('ieee8021ad', '802.1ad Provider Bridge (Q-in-Q)', [EtherType.QINQ])

export default [ethernet, vlan, qinq]
