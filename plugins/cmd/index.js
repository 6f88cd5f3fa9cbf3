// @ts-check
// Cisco MetaData (EtherType 0x8909, Cisco TrustSec): a version, a length, an option word and the
// Security Group Tag, then the EtherType of what follows, as Wireshark decodes it. Inside GRE the
// EtherType comes first (GRE's handoff, its protocol type, says which layout this is).
import { defineDissector, EtherType, Table } from 'netkit/plugin'

export default defineDissector({
  name: 'cmd',
  title: 'Cisco MetaData',
  handsOn: [Table.GRE_PROTO],
  fields: {
    version: { name: 'cmd.version', type: 'uint', label: 'Version' },
    length: { name: 'cmd.length', type: 'uint', label: 'Length' },
    options: { name: 'cmd.options', type: 'uint', hexDigits: 4, label: 'Options' },
    sgt: { name: 'cmd.sgt', type: 'uint', label: 'SGT' },
    type: { name: 'cmd.type', type: 'uint', hexDigits: 4, label: 'Type' },
  },
  register: [{ table: Table.ETHERTYPE, key: EtherType.CISCO_METADATA }],
  dissect(view, ctx, f) {
    const inGre = (ctx.handoff & 0xffff) === EtherType.CISCO_METADATA
    const at = inGre ? 2 : 0
    ctx.add(f.version, at, 1)
    ctx.add(f.length, at + 1, 1)
    ctx.add(f.options, at + 2, 2)
    ctx.add(f.sgt, at + 4, 2)
    const type = ctx.add(f.type, inGre ? 0 : 6, 2)
    // What follows goes by EtherType, without an `ethertype` layer (tshark shows cmd:ip).
    ctx.next(Table.GRE_PROTO, type, 8)
  },
})
