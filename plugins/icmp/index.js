// @ts-check
// ICMP (RFC 792). Error messages carry the offending datagram's header, decoded as IP again
// (as Wireshark does: ip:icmp:ip:udp).
import { defineDissector, IpProto, Table } from 'netkit/plugin'

const ERRORS = new Set([3, 4, 5, 11, 12])
const NAMES = { 0: 'echo reply', 3: 'unreachable', 4: 'source quench', 5: 'redirect', 8: 'echo request', 11: 'time exceeded', 12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply' }
/**
 * tcpdump's words for destination unreachable codes (print-icmp.c): `[before, after]` the quoted
 * datagram's destination address.
 */
const UNREACH = {
  0: ['net ', ' unreachable'], 1: ['host ', ' unreachable'], 5: ['', ' unreachable - source route failed'],
  6: ['net ', ' unreachable - unknown'], 7: ['host ', ' unreachable - unknown'], 8: ['', ' unreachable - source host isolated'],
  9: ['net ', ' unreachable - admin prohibited'], 10: ['host ', ' unreachable - admin prohibited'], 11: ['net ', ' unreachable - tos prohibited'],
  12: ['host ', ' unreachable - tos prohibited'], 13: ['host ', ' unreachable - admin prohibited filter'],
  14: ['host ', ' unreachable - host precedence violation'], 15: ['host ', ' unreachable - precedence cutoff'],
}
const REDIRECT = { 0: ['redirect ', ' to net '], 1: ['redirect ', ' to host '], 2: ['redirect-tos ', ' to net '], 3: ['redirect-tos ', ' to host '] }

export default defineDissector({
  name: 'icmp',
  handsOn: ['ip.version'],
  title: 'Internet Control Message Protocol',
  fields: {
    type: { name: 'icmp.type', type: 'uint', label: 'Type' },
    code: { name: 'icmp.code', type: 'uint', label: 'Code' },
    checksum: { name: 'icmp.checksum', type: 'uint', hexDigits: 4, label: 'Checksum' },
    ident: { name: 'icmp.ident', type: 'uint', label: 'Identifier (BE)' },
    seq: { name: 'icmp.seq', type: 'uint', label: 'Sequence Number (BE)' },
  },
  register: [{ table: Table.IP_PROTO, key: IpProto.ICMP }],
  dissect(view, ctx, f) {
    const type = ctx.add(f.type, 0, 1)
    ctx.add(f.code, 1, 1)
    ctx.add(f.checksum, 2, 2)
    if (type === 0 || type === 8) {
      const id = ctx.add(f.ident, 4, 2)
      const seq = ctx.add(f.seq, 6, 2)
      if (ctx.wantsInfo) prefix(view, ctx).text('ICMP ').text(NAMES[type]).text(', id ').dec(id).text(', seq ').dec(seq).text(', length ').dec(view.reported)
      return
    }
    if (ctx.wantsInfo) {
      const code = view.u8(1)
      const line = prefix(view, ctx)
      // tcpdump stops at the first byte of the quote it needs and was not captured.
      if (!view.has(0, errorBytes(view, type, code))) line.text(' [|icmp]')
      else {
        line.text('ICMP ')
        if (!errorText(line, view, type, code)) {
          const name = NAMES[/** @type {keyof NAMES} */ (type)]
          if (name !== undefined) line.text(name)
          else line.text('type ').dec(type)
        }
        line.text(', length ').dec(view.reported)
      }
    }
    if (ERRORS.has(type) && view.captured > 8) {
      // The error's line is tcpdump's, whole: the quoted datagram's layers below do not replace it.
      if (ctx.wantsInfo) ctx.infoDone()
      ctx.inError()
      ctx.next('ip.version', view.u8(8) >> 4, 8)
    }
  },
})

/**
 * How many bytes of the message errorText() reads: the quoted IPv4 header's destination address
 * ends at 8 + 20; a port unreachable also reads the quoted transport header's destination port.
 * @param {import('netkit').ByteView} view @param {number} type @param {number} code
 */
function errorBytes(view, type, code) {
  if (type === 12) return code === 0 ? 5 : 0
  if (type === 11 || type === 5 || (type === 3 && code !== 3)) return 28
  if (type !== 3) return 0
  if (!view.has(8, 1)) return 9
  return Math.max(28, 8 + (view.u8(8) & 0x0f) * 4 + 4)
}

/**
 * Writes what tcpdump -n says of an error message (print-icmp.c: unreachable, redirect, time
 * exceeded, parameter problem), which names the quoted datagram's destination, protocol and port;
 * false when `type` is none of those. The bytes of errorBytes() were captured.
 * @param {import('netkit').InfoLine} line @param {import('netkit').ByteView} view
 * @param {number} type @param {number} code
 */
function errorText(line, view, type, code) {
  const d = view.data
  const o = view.offset
  if (type === 11) {
    if (code === 0) line.text('time exceeded in-transit')
    else if (code === 1) line.text('ip reassembly time exceeded')
    else line.text('time exceeded-#').dec(code)
    return true
  }
  if (type === 12) {
    if (code !== 0) line.text('parameter problem - code ').dec(code)
    else line.text('parameter problem - octet ').dec(view.u8(4))
    return true
  }
  // The quoted IPv4 header's destination address is at 8 + 16.
  if (type !== 3 && type !== 5) return false
  if (type === 5) {
    const words = REDIRECT[/** @type {keyof REDIRECT} */ (code)]
    if (words) line.text(words[0]).ipv4(d, o + 24).text(words[1]).ipv4(d, o + 4)
    else line.text('redirect-#').dec(code).text(' ').ipv4(d, o + 24).text(' to ').ipv4(d, o + 4)
    return true
  }
  const proto = view.u8(17)
  if (code === 2) {
    line.ipv4(d, o + 24).text(' protocol ').dec(proto).text(' unreachable')
  } else if (code === 3) {
    // The quoted transport header's destination port: after the quoted header's IHL words.
    const at = 8 + (view.u8(8) & 0x0f) * 4 + 2
    line.ipv4(d, o + 24)
    if (proto === IpProto.TCP || proto === IpProto.UDP) line.text(proto === IpProto.TCP ? ' tcp port ' : ' udp port ').dec(view.u16(at)).text(' unreachable')
    else line.text(' protocol ').dec(proto).text(' port ').dec(view.u16(at)).text(' unreachable')
  } else if (code === 4) {
    line.ipv4(d, o + 24).text(' unreachable - need to frag')
    const mtu = view.u16(6)
    if (mtu !== 0) line.text(' (mtu ').dec(mtu).text(')')
  } else {
    const words = UNREACH[/** @type {keyof UNREACH} */ (code)]
    if (words) line.text(words[0]).ipv4(d, o + 24).text(words[1])
    else line.ipv4(d, o + 24).text(' unreachable - #').dec(code)
  }
  return true
}

/**
 * Starts the summary line: "IP a > b: " over IPv4 (nothing otherwise); returns it for the rest.
 * @param {import('netkit').ByteView} view @param {import('netkit').DissectContext} ctx
 */
function prefix(view, ctx) {
  const line = ctx.infoLine()
  return ctx.addrLength === 4 ? line.text('IP ').ipv4(view.data, ctx.srcOffset).text(' > ').ipv4(view.data, ctx.dstOffset).text(': ') : line
}
