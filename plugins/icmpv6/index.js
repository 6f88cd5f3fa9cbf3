// @ts-check
// ICMPv6 (RFC 4443). Error messages (types 1-4) carry the offending packet, decoded as IPv6.
import { defineDissector, IpProto, ipv6Text, Table } from 'netkit/plugin'

const NAMES = { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem', 128: 'echo request', 129: 'echo reply', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement', 143: 'multicast listener report v2' }

export default defineDissector({
  name: 'icmpv6',
  handsOn: ['ip.version'],
  title: 'Internet Control Message Protocol v6',
  fields: {
    type: { name: 'icmpv6.type', type: 'uint', label: 'Type' },
    code: { name: 'icmpv6.code', type: 'uint', label: 'Code' },
    checksum: { name: 'icmpv6.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.ICMPV6 }],
  dissect(view, ctx, f) {
    const type = ctx.add(f.type, 0, 1)
    ctx.add(f.code, 1, 1)
    ctx.add(f.checksum, 2, 2)
    // After the IPv6 layer's "IP6 a > b", as tcpdump -n prints it (print-icmp6.c).
    if (ctx.wantsInfo) ctx.info(`: ICMP6, ${type >= 1 && type <= 4 ? errorText(view, type, view.u8(1)) : infoText(view, type)}`, true)
    if (type >= 1 && type <= 4 && view.captured > 8) {
      // The error's line is tcpdump's, whole: the quoted packet's layers below do not replace it.
      if (ctx.wantsInfo) ctx.infoDone()
      ctx.inError()
      ctx.next('ip.version', view.u8(8) >> 4, 8)
    }
  },
})

/**
 * What tcpdump -n prints after "ICMP6, " for the other messages: the name, the echo identifier
 * and sequence, the neighbor discovery target, the MLDv2 record count, then the length.
 * @param {import('netkit').ByteView} view @param {number} type
 */
function infoText(view, type) {
  const name = NAMES[/** @type {keyof NAMES} */ (type)] ?? `type ${type}`
  const end = `, length ${view.reported}`
  if (type === 128 || type === 129) return view.has(4, 4) ? `${name}, id ${view.u16(4)}, seq ${view.u16(6)}${end}` : `${name} [|icmp6]`
  if (type === 135 || type === 136) {
    if (!view.has(8, 16)) return `${name} [|icmp6]`
    return `${name}, ${type === 135 ? 'who has' : 'tgt is'} ${ipv6Text(/** @type {Buffer} */ (view.data), view.offset + 8)}${end}`
  }
  if (type === 143) return view.has(6, 2) ? `${name}, ${view.u16(6)} group record(s)${end}` : `${name} [|icmp6]`
  return `${name}${end}`
}

/** tcpdump's names of the destination unreachable codes (print-icmp6.c; the space is its own). */
const UNREACH = ['unreachable route', ' unreachable prohibited', 'beyond scope', 'unreachable address', 'unreachable port']
const PARAM = ['erroneous', 'next header', 'option', 'incomplete header chain']

/**
 * What tcpdump -n prints after "ICMP6, " for an error message (types 1-4, print-icmp6.c): the
 * type, the code's words, the quoted packet's addresses or port, and the length; where a byte it
 * reads was not captured it stops with " [|icmp6]", as tcpdump does.
 * @param {import('netkit').ByteView} view @param {number} type @param {number} code
 */
function errorText(view, type, code) {
  const d = view.data
  const o = view.offset
  const end = `, length ${view.reported}`
  // The quoted IPv6 header starts at 8: its source at 8 + 8, its destination at 8 + 24.
  const addr = (/** @type {number} */ at) => ipv6Text(/** @type {Buffer} */ (d), o + at)
  if (type === 2) return view.has(4, 4) ? `packet too big, mtu ${view.u32(4)}${end}` : 'packet too big [|icmp6]'
  if (type === 3) {
    if (code === 1) return `time exceeded in-transit (reassembly)${end}`
    if (code !== 0) return `time exceeded in-transit, unknown code (${code})${end}`
    return view.has(24, 16) ? `time exceeded in-transit for ${addr(32)}${end}` : 'time exceeded in-transit [|icmp6]'
  }
  if (type === 4) {
    if (!view.has(24, 16)) return 'parameter problem [|icmp6]'
    if (code >= PARAM.length) return `parameter problem, code-#${code}${end}`
    return view.has(4, 4) ? `parameter problem, ${PARAM[code]} - octet ${view.u32(4)}${end}` : 'parameter problem [|icmp6]'
  }
  const head = `destination unreachable, ${UNREACH[code] ?? `unknown unreach code (${code})`}`
  if (code === 0 || code === 1 || code === 3) return view.has(24, 16) ? `${head} ${addr(32)}${end}` : `${head} [|icmp6]`
  if (code === 2) return view.has(8, 40) ? `${head} ${addr(32)}, source address ${addr(16)}${end}` : `${head} [|icmp6]`
  // Other codes: tcpdump dumps the message in hex instead of the length (print_unknown_data).
  if (code !== 4) return `${head}${hexDump(view)}`
  const upper = upperLayer(view)
  if (upper === undefined || !view.has(24, 16)) return `${head} [|icmp6]`
  const port = view.u16(upper.at + 2)
  if (upper.proto === IpProto.TCP || upper.proto === IpProto.UDP) return `${head}, ${addr(32)} ${upper.proto === IpProto.TCP ? 'tcp' : 'udp'} port ${port}${end}`
  return `${head}, ${addr(32)} protocol ${upper.proto} port ${port} unreachable${end}`
}

/**
 * The message as tcpdump's hex_print() writes it: lines of "\n\t0x0000: " and 16 bytes in
 * 2-byte groups (" 0105"), an odd last byte alone; " [|icmp6]" where the capture ends first.
 * @param {import('netkit').ByteView} view
 */
function hexDump(view) {
  let out = ''
  for (let i = 0; i < view.reported; i += 2) {
    if (i % 16 === 0) out += `\n\t0x${i.toString(16).padStart(4, '0')}: `
    const n = Math.min(2, view.reported - i)
    if (!view.has(i, n)) return `${out} [|icmp6]`
    out += ` ${view.u8(i).toString(16).padStart(2, '0')}${n === 2 ? view.u8(i + 1).toString(16).padStart(2, '0') : ''}`
  }
  return out
}

/**
 * The quoted packet's TCP or UDP header, past its extension headers (tcpdump's get_upperlayer):
 * where it starts and its protocol, or undefined where tcpdump finds none (another protocol, a
 * non-first fragment, bytes not captured).
 * @param {import('netkit').ByteView} view
 */
function upperLayer(view) {
  if (!view.has(8 + 6, 1)) return undefined
  let next = view.u8(8 + 6)
  let at = 8 + 40
  for (let n = 0; n < 64 && at < view.captured; n++) {
    if (next === IpProto.TCP || next === IpProto.UDP) return view.has(at + 2, 2) ? { at, proto: next } : undefined
    if (next === IpProto.HOPOPTS || next === IpProto.DSTOPTS || next === IpProto.ROUTING) {
      if (!view.has(at, 2)) return undefined
      next = view.u8(at)
      at += (view.u8(at + 1) + 1) << 3
    } else if (next === IpProto.FRAGMENT) {
      if (!view.has(at, 4) || (view.u16(at + 2) & 0xfff8) !== 0) return undefined
      next = view.u8(at)
      at += 8
    } else if (next === IpProto.AH) {
      if (!view.has(at, 2)) return undefined
      next = view.u8(at)
      at += (view.u8(at + 1) + 2) << 2
    } else return undefined
  }
  return undefined
}
