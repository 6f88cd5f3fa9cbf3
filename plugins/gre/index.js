// @ts-check
// GRE (RFC 2784, RFC 2890 key and sequence number; RFC 1701's routing; RFC 2637's version 1 for
// PPTP). The payload goes to the gre.proto table by its protocol type: Ethernet for transparent
// bridging (gretap), ERSPAN, and through that table's fallback IPv4, IPv6, ARP, MPLS. WCCP's
// redirect header (0x883e) is read here, as Wireshark does.
import { defineDissector, EtherType, IpProto, Table } from 'netkit/plugin'

/** Flag bits of the first 16 bits (RFC 1701 section 2.1, RFC 2637 section 4.1). */
const C = 0x8000, R = 0x4000, K = 0x2000, S = 0x1000, A = 0x0080
/** Web Cache Communication Protocol's GRE protocol type (draft-wilson-wrec-wccp-v2). */
const WCCP = 0x883e

/** Where tcpdump goes on to print the payload (print-gre.c): other types print `gre-proto-0x..`. */
const TCPDUMP_DECODES = new Set([EtherType.IPV4, EtherType.IPV6, EtherType.MPLS, EtherType.TEB])

export default defineDissector({
  name: 'gre',
  title: 'Generic Routing Encapsulation',
  handsOn: [Table.GRE_PROTO, Table.IP_VERSION],
  fields: {
    flagsAndVersion: { name: 'gre.flags_and_version', type: 'uint', hexDigits: 4, label: 'Flags and Version' },
    checksumFlag: { name: 'gre.flags.checksum', type: 'bool', label: 'Checksum Bit' },
    routingFlag: { name: 'gre.flags.routing', type: 'bool', label: 'Routing Bit' },
    keyFlag: { name: 'gre.flags.key', type: 'bool', label: 'Key Bit' },
    seqFlag: { name: 'gre.flags.sequence_number', type: 'bool', label: 'Sequence Number Bit' },
    ssrFlag: { name: 'gre.flags.strict_source_route', type: 'bool', label: 'Strict Source Route Bit' },
    recursion: { name: 'gre.flags.recursion_control', type: 'uint', label: 'Recursion control' },
    ackFlag: { name: 'gre.flags.ack', type: 'bool', label: 'Acknowledgment' },
    reserved: { name: 'gre.flags.reserved', type: 'uint', label: 'Flags (Reserved)' },
    version: { name: 'gre.flags.version', type: 'uint', label: 'Version' },
    proto: { name: 'gre.proto', type: 'uint', hexDigits: 4, label: 'Protocol Type' },
    checksum: { name: 'gre.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
    checksumStatus: { name: 'gre.checksum.status', type: 'uint', label: 'Checksum Status' },
    offset: { name: 'gre.offset', type: 'uint', label: 'Offset' },
    key: { name: 'gre.key', type: 'uint', hexDigits: 8, label: 'Key' },
    payloadLength: { name: 'gre.key.payload_length', type: 'uint', label: 'Payload Length' },
    callId: { name: 'gre.key.call_id', type: 'uint', label: 'Call ID' },
    seq: { name: 'gre.sequence_number', type: 'uint', label: 'Sequence Number' },
    ack: { name: 'gre.ack_number', type: 'uint', label: 'Acknowledgment Number' },
    wccpDynamic: { name: 'gre.wccp.dynamic_service', type: 'bool', label: 'Dynamic Service' },
    wccpAltUsed: { name: 'gre.wccp.alternative_bucket_used', type: 'bool', label: 'Alternative bucket used' },
    wccpValid: { name: 'gre.wccp.redirect_header_valid', type: 'bool', label: 'WCCP Redirect header is valid' },
    wccpService: { name: 'gre.wccp.service_id', type: 'uint', label: 'Service ID' },
    wccpAlt: { name: 'gre.wccp.alternative_bucket', type: 'uint', label: 'Alternative Bucket' },
    wccpPrimary: { name: 'gre.wccp.primary_bucket', type: 'uint', label: 'Primary Bucket' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.GRE }],
  dissect(view, ctx, f) {
    const fv = ctx.add(f.flagsAndVersion, 0, 2)
    const version = fv & 7
    ctx.set(f.checksumFlag, (fv >> 15) & 1)
    ctx.set(f.routingFlag, (fv >> 14) & 1)
    ctx.set(f.keyFlag, (fv >> 13) & 1)
    ctx.set(f.seqFlag, (fv >> 12) & 1)
    ctx.set(f.ssrFlag, (fv >> 11) & 1)
    ctx.set(f.recursion, (fv >> 8) & 7)
    if (version === 1) ctx.set(f.ackFlag, (fv >> 7) & 1)
    ctx.set(f.reserved, version === 1 ? (fv >> 3) & 0xf : (fv >> 3) & 0x1f)
    ctx.set(f.version, version)
    const proto = ctx.add(f.proto, 2, 2)
    let at = 4
    if (fv & (C | R)) {
      const sum = ctx.add(f.checksum, 4, 2)
      if (fv & C) ctx.set(f.checksumStatus, checksumStatus(view, sum))
      ctx.add(f.offset, 6, 2)
      at = 8
    }
    let key = -1
    if (fv & K) {
      if (version === 1) {
        ctx.add(f.payloadLength, at, 2)
        key = ctx.add(f.callId, at + 2, 2)
      } else key = ctx.add(f.key, at, 4)
      at += 4
    }
    let seq = -1
    if (fv & S) { seq = ctx.add(f.seq, at, 4); at += 4 }
    let ack = -1
    if (version === 1 && (fv & A)) { ack = ctx.add(f.ack, at, 4); at += 4 }
    if (version === 0 && (fv & R)) {
      // Source route entries (RFC 1701 section 2.2) up to the null entry (family 0, length 0).
      for (let n = 0; ; n++) {
        const family = view.u16(at)
        const length = view.u8(at + 3)
        at += 4 + length
        if ((family === 0 && length === 0) || n > 255) break
      }
    }
    if (ctx.wantsInfo) line(view, ctx, fv, proto, key, seq, ack, at)
    if (version > 1) return
    if (proto === WCCP) {
      // A redirect header comes first unless the payload already looks like IPv4 (Wireshark's test).
      if (view.u8(at) >> 4 !== 4) {
        const b = view.u8(at)
        ctx.set(f.wccpDynamic, b & 1)
        ctx.set(f.wccpAltUsed, (b >> 1) & 1)
        ctx.set(f.wccpValid, (b >> 2) & 1)
        ctx.add(f.wccpService, at + 1, 1)
        ctx.add(f.wccpAlt, at + 2, 1)
        ctx.add(f.wccpPrimary, at + 3, 1)
        at += 4
      }
      return ctx.next(Table.IP_VERSION, 4, at)
    }
    // The handoff is GRE's first 32 bits (flags and version, protocol type): ERSPAN tells its
    // type I from type II by the sequence number flag.
    ctx.next(Table.GRE_PROTO, proto, at, undefined, view.u32(0))
  },
})

/**
 * Verifies the GRE checksum (RFC 2784 section 2.1: the ones' complement sum of the GRE header
 * and payload) when all of it was captured: 1 good, 0 bad, 2 not verified (Wireshark's values).
 * @param {import('netkit').ByteView} view @param {number} sum
 */
function checksumStatus(view, sum) {
  if (view.captured < view.reported) return 2
  const d = view.data, o = view.offset, n = view.captured
  let acc = 0
  for (let i = 0; i + 1 < n; i += 2) acc += (d[o + i] << 8) | d[o + i + 1]
  if (n & 1) acc += d[o + n - 1] << 8
  while (acc > 0xffff) acc = (acc & 0xffff) + (acc >>> 16)
  return acc === 0xffff || (sum === 0 && acc === 0) ? 1 : 0
}

/**
 * tcpdump -n's line (print-gre.c): "IP a > b: GREv0, key=0x2a, seq 7, length 98: " and the
 * payload's own line for the types tcpdump decodes, else `gre-proto-0x88be`.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 * @param {number} fv @param {number} proto @param {number} key @param {number} seq @param {number} ack
 * @param {number} at
 */
function line(view, ctx, fv, proto, key, seq, ack, at) {
  const n = ctx.addrLength
  const l = ctx.infoLine().text(n === 16 ? 'IP6 ' : 'IP ').address(view.data, ctx.srcOffset, n).text(' > ')
    .address(view.data, ctx.dstOffset, n).text(': GREv').dec(fv & 7)
  if ((fv & 7) > 1) { l.text(' ERROR: unknown-version'); return ctx.infoDone() }
  if ((fv & 7) === 1) {
    if (key >= 0) l.text(', call ').dec(key)
    if (seq >= 0) l.text(', seq ').dec(seq)
    if (ack >= 0) l.text(', ack ').dec(ack)
    l.text(', length ').dec(view.reported)
    // Without a sequence number (a bare acknowledgment) there is no payload to print.
    if (seq < 0) return ctx.infoDone()
    l.text(': ')
    if (proto === EtherType.PPP) return ctx.infoPrefix()
    l.text('gre-proto-0x').hex(proto)
    return ctx.infoDone()
  }
  if (fv & (C | R)) l.text(', off 0x').hex(view.u16(6))
  if (key >= 0) l.text(', key=0x').hex(key)
  if (seq >= 0) l.text(', seq ').dec(seq)
  l.text(', length ').dec(view.reported).text(': ')
  if (TCPDUMP_DECODES.has(/** @type {any} */ (proto)) && view.captured > at) ctx.infoPrefix()
  else {
    l.text('gre-proto-0x').hex(proto)
    ctx.infoDone()
  }
}
