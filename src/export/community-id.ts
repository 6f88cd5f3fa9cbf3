/**
 * Community ID v1: the flow hash Zeek, Suricata and Arkime share, so a flow found in one tool
 * can be looked up in another. See: https://github.com/corelight/community-id-spec (README,
 * "Technical details"). The hash is SHA-1 over seed (2 bytes, network order), source address,
 * destination address, protocol, one zero byte of padding, source port and destination port,
 * with the endpoints ordered so both directions of a flow give the same value; the result is
 * "1:" and the digest in base64.
 */
import { createHash } from 'node:crypto'

/** IP protocol numbers whose flows carry ports (or ICMP type/code in their place). */
const PORT_PROTOCOLS = new Set([1, 6, 17, 58, 132])

/**
 * ICMP types that have a counterpart (request/reply pairs): the flow's "ports" are the type and
 * its counterpart, and both directions hash alike. Other types are one-way (type and code, no
 * ordering). The pairs are the spec's, from Zeek's ICMP4_counterpart/ICMP6_counterpart.
 */
const ICMP4_COUNTERPART = new Map([[8, 0], [0, 8], [13, 14], [14, 13], [15, 16], [16, 15], [10, 9], [9, 10], [17, 18], [18, 17]])
const ICMP6_COUNTERPART = new Map([[128, 129], [129, 128], [133, 134], [134, 133], [135, 136], [136, 135], [130, 131], [131, 130], [139, 140], [140, 139], [144, 145], [145, 144]])

/** A flow's five-tuple; addresses are 4 or 16 bytes, in network order. */
export interface FlowTuple {
  src: Uint8Array
  dst: Uint8Array
  proto: number
  /** Source and destination ports; for ICMP/ICMPv6 the type and the code. */
  sport: number
  dport: number
}

/** Compares two byte strings of equal length as unsigned big-endian numbers. */
function compareBytes(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i]
  return 0
}

/** The Community ID v1 of a flow, `1:<base64 SHA-1>`, with the given seed (0 by default). */
export function communityId(t: FlowTuple, seed = 0): string {
  let { src, dst, sport, dport } = t
  const proto = t.proto
  let oneWay = false
  if (proto === 1 || proto === 58) {
    const other = (proto === 1 ? ICMP4_COUNTERPART : ICMP6_COUNTERPART).get(sport)
    if (other === undefined) oneWay = true
    else dport = other
  }
  const ports = PORT_PROTOCOLS.has(proto)
  if (!oneWay) {
    const c = compareBytes(src, dst)
    if (c > 0 || (c === 0 && ports && sport > dport)) {
      ;[src, dst] = [dst, src]
      ;[sport, dport] = [dport, sport]
    }
  }
  const n = src.length
  const buf = Buffer.alloc(2 + 2 * n + 2 + (ports ? 4 : 0))
  buf.writeUInt16BE(seed & 0xffff, 0)
  buf.set(src, 2)
  buf.set(dst, 2 + n)
  buf[2 + 2 * n] = proto
  if (ports) {
    buf.writeUInt16BE(sport, 4 + 2 * n)
    buf.writeUInt16BE(dport, 6 + 2 * n)
  }
  return '1:' + createHash('sha1').update(buf).digest('base64')
}
