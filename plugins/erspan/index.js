// @ts-check
// Cisco ERSPAN (draft-foschiano-erspan-03) over GRE: type I (protocol type 0x88be and no GRE
// sequence number: the mirrored frame follows GRE directly), type II (0x88be, an 8-byte header)
// and type III (0x22eb, a 12-byte header and an optional 8-byte platform-specific one). The
// mirrored Ethernet frame is handed on; type III frames of another type are data.
import { defineDissector, EtherType, LinkType, Table } from 'netkit/plugin'

/** GRE's sequence-number flag (RFC 2890 section 2), in the high half of GRE's handoff. */
const GRE_SEQUENCE = 0x1000
/** Type III frame type of an Ethernet frame (the draft's "FT" field). */
const FT_ETHERNET = 0

export default defineDissector({
  name: 'erspan',
  title: 'Encapsulated Remote Switch Packet ANalysis',
  handsOn: [Table.LINK, 'erspan.frame_type'],
  fields: {
    version: { name: 'erspan.version', type: 'uint', label: 'Version' },
    vlan: { name: 'erspan.vlan', type: 'uint', label: 'Vlan' },
    cos: { name: 'erspan.cos', type: 'uint', label: 'COS' },
    encap: { name: 'erspan.encap', type: 'uint', label: 'Encap' },
    bso: { name: 'erspan.bso', type: 'uint', label: 'Bad/Short/Oversized' },
    truncated: { name: 'erspan.truncated', type: 'uint', label: 'Truncated' },
    spanid: { name: 'erspan.spanid', type: 'uint', label: 'SpanID' },
    reserved: { name: 'erspan.reserved', type: 'uint', label: 'Reserved' },
    index: { name: 'erspan.index', type: 'uint', label: 'Index' },
    timestamp: { name: 'erspan.timestamp', type: 'uint', label: 'Timestamp' },
    sgt: { name: 'erspan.sgt', type: 'uint', label: 'Security Group Tag' },
    p: { name: 'erspan.p', type: 'uint', label: 'Has Ethernet PDU' },
    ft: { name: 'erspan.ft', type: 'uint', label: 'Frame Type' },
    hw: { name: 'erspan.hw', type: 'uint', label: 'Hardware ID' },
    direction: { name: 'erspan.direction', type: 'bool', label: 'Direction' },
    gra: { name: 'erspan.gra', type: 'uint', label: 'Timestamp granularity' },
    o: { name: 'erspan.o', type: 'uint', label: 'Optional Sub headers' },
    platid: { name: 'erspan.platid', type: 'uint', label: 'Platform ID' },
    pid1Rsvd1: { name: 'erspan.pid1.rsvd1', type: 'uint', label: 'Reserved' },
    pid1Vsmid: { name: 'erspan.pid1.vsmid', type: 'uint', label: 'VSM ID' },
    pid1PortIndex: { name: 'erspan.pid1.port_index', type: 'uint', label: 'Port ID/Index' },
    pid3Rsvd1: { name: 'erspan.pid3.rsvd1', type: 'uint', label: 'Reserved' },
    pid3PortIndex: { name: 'erspan.pid3.port_index', type: 'uint', label: 'Port ID/Index' },
    pid3Timestamp: { name: 'erspan.pid3.timestamp', type: 'uint', label: 'Timestamp (seconds)' },
    pid5Switchid: { name: 'erspan.pid5.switchid', type: 'uint', label: 'Switch ID' },
    pid5PortIndex: { name: 'erspan.pid5.port_index', type: 'uint', label: 'Port ID/Index' },
    pid5Timestamp: { name: 'erspan.pid5.timestamp', type: 'uint', label: 'Timestamp (seconds)' },
    pid7Rsvd1: { name: 'erspan.pid7.rsvd1', type: 'uint', label: 'Reserved' },
    pid7SourceIndex: { name: 'erspan.pid7.source_index', type: 'uint', label: 'Source Index' },
    pid7Timestamp: { name: 'erspan.pid7.timestamp', type: 'uint', label: 'Timestamp (seconds)' },
  },
  register: [{ table: Table.GRE_PROTO, key: EtherType.ERSPAN_II }, { table: Table.GRE_PROTO, key: EtherType.ERSPAN_III }],
  dissect(view, ctx, f) {
    // Type I has no header of its own: told apart from type II by GRE's missing sequence number
    // (GRE hands on its first 32 bits: flags and version, protocol type).
    const gre = ctx.handoff
    if ((gre & 0xffff) === EtherType.ERSPAN_II && ((gre >>> 16) & GRE_SEQUENCE) === 0) return ctx.next(Table.LINK, LinkType.EN10MB, 0)
    const w0 = view.u16(0)
    const version = w0 >> 12
    ctx.set(f.version, version)
    if (version !== 1 && version !== 2) return ctx.malformed(`unknown ERSPAN version ${version}`)
    ctx.set(f.vlan, w0 & 0xfff)
    const w1 = view.u16(2)
    ctx.set(f.cos, w1 >> 13)
    ctx.set(version === 1 ? f.encap : f.bso, (w1 >> 11) & 3)
    ctx.set(f.truncated, (w1 >> 10) & 1)
    ctx.set(f.spanid, w1 & 0x3ff)
    if (version === 1) {
      const w = view.u32(4)
      ctx.set(f.reserved, w >>> 20)
      ctx.set(f.index, w & 0xfffff)
      return ctx.next(Table.LINK, LinkType.EN10MB, 8)
    }
    ctx.add(f.timestamp, 4, 4)
    ctx.add(f.sgt, 8, 2)
    const w = view.u16(10)
    ctx.set(f.p, w >> 15)
    const ft = (w >> 10) & 0x1f
    ctx.set(f.ft, ft)
    ctx.set(f.hw, (w >> 4) & 0x3f)
    ctx.set(f.direction, (w >> 3) & 1)
    ctx.set(f.gra, (w >> 1) & 3)
    ctx.set(f.o, w & 1)
    let at = 12
    if (w & 1) {
      platformSubheader(view, ctx, f)
      at = 20
    }
    if (ft === FT_ETHERNET) ctx.next(Table.LINK, LinkType.EN10MB, at)
    else ctx.next('erspan.frame_type', ft, at)
  },
})

/**
 * The optional platform-specific subheader of type III (8 bytes): its layout depends on the
 * platform id in its first 6 bits.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {Record<string, number>} f
 */
function platformSubheader(view, ctx, f) {
  const a = view.u32(12)
  const b = view.u32(16)
  const platid = a >>> 26
  ctx.set(f.platid, platid)
  if (platid === 1) {
    ctx.set(f.pid1Rsvd1, (a >>> 12) & 0x3fff)
    ctx.set(f.pid1Vsmid, a & 0xfff)
    ctx.set(f.pid1PortIndex, b)
  } else if (platid === 3) {
    ctx.set(f.pid3Rsvd1, (a >>> 14) & 0xfff)
    ctx.set(f.pid3PortIndex, a & 0x3fff)
    ctx.set(f.pid3Timestamp, b)
  } else if (platid === 5 || platid === 6) {
    ctx.set(f.pid5Switchid, (a >>> 16) & 0x3ff)
    ctx.set(f.pid5PortIndex, a & 0xffff)
    ctx.set(f.pid5Timestamp, b)
  } else if (platid === 7) {
    ctx.set(f.pid7Rsvd1, (a >>> 20) & 0x3f)
    ctx.set(f.pid7SourceIndex, a & 0xfffff)
    ctx.set(f.pid7Timestamp, b)
  }
}
