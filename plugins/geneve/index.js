// @ts-check
// Geneve (RFC 8926) on UDP 6081: the header, its options (class, type, length; the bytes of
// each), and the payload by its protocol type (an EtherType: Ethernet for 0x6558).
import { defineDissector, Table, Port } from 'netkit/plugin'

/** Google Cloud Platform's option class, whose options Wireshark decodes (not as unknown data). */
const CLASS_GCP = 0x0132

export default defineDissector({
  name: 'geneve',
  title: 'Generic Network Virtualization Encapsulation',
  handsOn: [Table.GRE_PROTO],
  fields: {
    version: { name: 'geneve.version', type: 'uint', label: 'Version' },
    flags: { name: 'geneve.flags', type: 'uint', hexDigits: 2, label: 'Flags' },
    oam: { name: 'geneve.flags.oam', type: 'bool', label: 'Operations, Administration and Management Frame' },
    critical: { name: 'geneve.flags.critical', type: 'bool', label: 'Critical Options Present' },
    flagsReserved: { name: 'geneve.flags.reserved', type: 'bool', label: 'Reserved' },
    protoType: { name: 'geneve.proto_type', type: 'uint', hexDigits: 4, label: 'Protocol Type' },
    vni: { name: 'geneve.vni', type: 'uint', hexDigits: 6, label: 'Virtual Network Identifier (VNI)' },
    reserved: { name: 'geneve.reserved', type: 'uint', hexDigits: 2, label: 'Reserved' },
    options: { name: 'geneve.options', type: 'bytes', label: 'Geneve Options' },
    optionClass: { name: 'geneve.option.class', type: 'uint', hexDigits: 4, label: 'Class' },
    optionType: { name: 'geneve.option.type', type: 'uint', hexDigits: 2, label: 'Type' },
    optionCritical: { name: 'geneve.option.type.critical', type: 'bool', label: 'Critical Option' },
    optionFlags: { name: 'geneve.option.flags', type: 'uint', hexDigits: 2, label: 'Flags' },
    optionFlagsReserved: { name: 'geneve.option.flags.reserved', type: 'bool', label: 'Reserved' },
    optionLength: { name: 'geneve.option.length', type: 'uint', label: 'Length' },
    option: { name: 'geneve.option', type: 'bytes', label: 'Option' },
    unknownData: { name: 'geneve.option.unknown.data', type: 'bytes', label: 'Unknown Option Data' },
  },
  register: [{ table: Table.UDP_PORT, key: Port.GENEVE }],
  dissect(view, ctx, f) {
    const b0 = view.u8(0)
    const version = b0 >> 6
    ctx.set(f.version, version)
    if (version !== 0) {
      if (ctx.wantsInfo) { ctx.infoFromMark().text(': Geneve ERROR: unknown-version ').dec(version); ctx.infoDone() }
      return ctx.malformed(`unknown Geneve version ${version}`)
    }
    const optsLen = (b0 & 0x3f) * 4
    const flags = ctx.add(f.flags, 1, 1)
    ctx.set(f.oam, flags >> 7)
    ctx.set(f.critical, (flags >> 6) & 1)
    ctx.set(f.flagsReserved, flags & 0x3f ? 1 : 0)
    const proto = ctx.add(f.protoType, 2, 2)
    const vni = ctx.add(f.vni, 4, 3)
    const reserved = ctx.add(f.reserved, 7, 1)
    if (optsLen > 0) {
      // The header's option length, then each option's (as Wireshark lists geneve.option.length).
      ctx.add(f.options, 8, optsLen)
      ctx.set(f.optionLength, optsLen)
      for (let p = 8; p < 8 + optsLen;) {
        const cls = ctx.add(f.optionClass, p, 2)
        const type = ctx.add(f.optionType, p + 2, 1)
        ctx.set(f.optionCritical, type >> 7)
        const fl = view.u8(p + 3)
        ctx.set(f.optionFlags, fl & 0xe0)
        ctx.set(f.optionFlagsReserved, fl & 0xe0 ? 1 : 0)
        const len = 4 + (fl & 0x1f) * 4
        ctx.set(f.optionLength, len)
        if (p + len > 8 + optsLen) return ctx.malformed(`Geneve option of ${len} bytes runs past the options`)
        ctx.add(f.option, p, len)
        if (cls !== CLASS_GCP && len > 4) ctx.add(f.unknownData, p + 4, len - 4)
        p += len
      }
    } else ctx.set(f.optionLength, 0)
    if (ctx.wantsInfo) line(ctx, flags, vni, reserved, optsLen, proto, view.has(8 + optsLen, 1))
    ctx.next(Table.GRE_PROTO, proto, 8 + optsLen)
  },
})

/**
 * tcpdump -n's line (print-geneve.c): ": Geneve, Flags [C], vni 0xa, options [8 bytes]: " and
 * the payload's own line (any protocol type tcpdump decodes; here whatever the layers above write).
 * @param {import('netkit').DissectContext} ctx @param {number} flags @param {number} vni
 * @param {number} reserved @param {number} optsLen @param {number} proto @param {boolean} more
 */
function line(ctx, flags, vni, reserved, optsLen, proto, more) {
  const l = ctx.infoFromMark().text(': Geneve, Flags [')
  if ((flags & 0xc0) === 0) l.text('none')
  else {
    if (flags & 0x80) l.char(0x4f) // O
    if (flags & 0x40) l.char(0x43) // C
  }
  l.text('], vni 0x').hex(vni)
  if (reserved) l.text(', rsvd 0x').hex(reserved)
  if (optsLen > 0) l.text(', options [').dec(optsLen).text(' bytes]')
  l.text(': ')
  if (more && ctx.hasNext(Table.GRE_PROTO, proto)) return ctx.infoPrefix()
  l.text('geneve-proto-0x').hex(proto)
  ctx.infoDone()
}
