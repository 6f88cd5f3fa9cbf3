// @ts-check
// OpenFlow (TCP 6633/6653): the common header, and for OpenFlow 1.3 the packet-in and
// packet-out messages, whose data is an Ethernet frame decoded like any other.
// See: OpenFlow Switch Specification 1.3, sections 7.1 (header), 7.3.7 (packet-out), 7.4.1 (packet-in).
import { defineDissector, LinkType, Table } from 'netkit/plugin'

const openflow = defineDissector({
  name: 'openflow',
  handsOn: ['openflow.version'],
  title: 'OpenFlow',
  fields: { version: { name: 'openflow.version', type: 'uint', hexDigits: 2, label: 'Version' } },
  register: [{ table: 'tcp.port', key: 6633 }, { table: 'tcp.port', key: 6653 }],
  dissect(view, ctx, f) {
    const version = ctx.add(f.version, 0, 1)
    ctx.next('openflow.version', version, 0)
  },
})

const PACKET_IN = 10
const PACKET_OUT = 13

const v4 = defineDissector({
  name: 'openflow_v4',
  handsOn: ['link'],
  title: 'OpenFlow 1.3',
  fields: {
    type: { name: 'openflow_v4.type', type: 'uint', label: 'Type' },
    length: { name: 'openflow_v4.length', type: 'uint', label: 'Length' },
    xid: { name: 'openflow_v4.xid', type: 'uint', label: 'Transaction ID' },
  },
  register: [{ table: 'openflow.version', key: 4 }],
  dissect(view, ctx, f) {
    const type = ctx.add(f.type, 1, 1)
    const length = ctx.add(f.length, 2, 2)
    ctx.add(f.xid, 4, 4)
    if (length < 8) return ctx.malformed(`bogus OpenFlow length ${length}`)
    ctx.limit(0, length)
    let data = -1
    if (type === PACKET_IN) {
      const matchLength = view.u16(26)
      data = 24 + ((matchLength + 7) & ~7) + 2
    } else if (type === PACKET_OUT) {
      data = 24 + view.u16(16)
    }
    if (data > 0 && data < length) ctx.next(Table.LINK, LinkType.EN10MB, data)
  },
})

export default [openflow, v4]
