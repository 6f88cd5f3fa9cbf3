/**
 * TcpSegmentReader: finds the TCP segment in a captured frame for the stream commands (streams,
 * follow, http-log), straight from the bytes and without allocating: link layer (Ethernet with
 * 802.1Q/802.1ad tags, Linux cooked v1/v2, raw IP, BSD loopback), IPv4 (unfragmented) and IPv6
 * (skipping extension headers), then the TCP header. The result lives in the reader's fields and
 * is overwritten by the next call.
 */
import { LinkType } from '../pcap/link-types.js'

const ETH_IPV4 = 0x0800
const ETH_IPV6 = 0x86dd
const ETH_VLAN = [0x8100, 0x88a8, 0x9100]

/** Decodes the TCP segment (or, when asked, the UDP datagram) of a frame into its fields. */
export class TcpSegmentReader {
  /** IP version (4 or 6) of the last segment read. */
  ipVersion = 0
  /** IP protocol of the last segment read: 6 (TCP), or 17 (UDP) when the reader takes UDP. */
  proto = 0
  /** Bytes of the IP packet (IPv4 total length, IPv6 40 + payload length). */
  ipLength = 0
  /** TCP window field (0 for UDP). */
  window = 0
  /** Offsets of the source and destination address bytes in the frame, and their length. */
  srcOffset = 0
  dstOffset = 0
  addrLength = 0
  sport = 0
  dport = 0
  seq = 0
  ack = 0
  flags = 0
  /** Payload bytes present in the capture: data[payloadStart, payloadEnd). */
  payloadStart = 0
  payloadEnd = 0
  /** Payload length the headers claim (tcp.len), which may exceed what was captured. */
  payloadLength = 0

  /** @param udp also read UDP datagrams (ports and payload; seq, ack and flags are 0). */
  constructor(private readonly udp = false) {}

  /** Reads frame data[off, off + capLen) of `linkType`; false when it holds no whole TCP header. */
  read(data: Buffer, off: number, capLen: number, linkType: number): boolean {
    const end = off + capLen
    let p = off
    let etherType = -1
    switch (linkType) {
      case LinkType.EN10MB: {
        if (capLen < 14) return false
        etherType = data.readUInt16BE(p + 12)
        p += 14
        while (ETH_VLAN.includes(etherType)) {
          if (p + 4 > end) return false
          etherType = data.readUInt16BE(p + 2)
          p += 4
        }
        break
      }
      case LinkType.LINUX_SLL:
        if (capLen < 16) return false
        etherType = data.readUInt16BE(p + 14)
        p += 16
        break
      case LinkType.LINUX_SLL2:
        if (capLen < 20) return false
        etherType = data.readUInt16BE(p)
        p += 20
        break
      case LinkType.NULL: case LinkType.LOOP: {
        if (capLen < 4) return false
        // NULL stores the address family in the writer's byte order, LOOP in network order.
        let family = data.readUInt32LE(p)
        if (family > 0xffff) family = data.readUInt32BE(p)
        p += 4
        etherType = family === 2 ? ETH_IPV4 : family === 24 || family === 28 || family === 30 ? ETH_IPV6 : -1
        break
      }
      case LinkType.RAW: case LinkType.IPV4: case LinkType.IPV6: {
        if (capLen < 1) return false
        const v = data[p] >> 4
        etherType = v === 4 ? ETH_IPV4 : v === 6 ? ETH_IPV6 : -1
        break
      }
      default:
        return false
    }
    let ipEnd: number
    if (etherType === ETH_IPV4) {
      if (p + 20 > end || data[p] >> 4 !== 4) return false
      const ihl = (data[p] & 0x0f) * 4
      const total = data.readUInt16BE(p + 2)
      const proto = data[p + 9]
      if (ihl < 20 || total < ihl || (proto !== 6 && !(proto === 17 && this.udp))) return false
      if ((data.readUInt16BE(p + 6) & 0x3fff) !== 0) return false // a fragment (MF or offset)
      this.ipVersion = 4
      this.srcOffset = p + 12
      this.dstOffset = p + 16
      this.addrLength = 4
      this.proto = proto
      this.ipLength = total
      ipEnd = p + total
      p += ihl
    } else if (etherType === ETH_IPV6) {
      if (p + 40 > end || data[p] >> 4 !== 6) return false
      this.ipVersion = 6
      this.srcOffset = p + 8
      this.dstOffset = p + 24
      this.addrLength = 16
      ipEnd = p + 40 + data.readUInt16BE(p + 4)
      this.ipLength = ipEnd - p
      let next = data[p + 6]
      p += 40
      // Hop-by-hop, routing, destination options, AH: skip; a fragment header: give up.
      while (next === 0 || next === 43 || next === 60 || next === 51) {
        if (p + 8 > end) return false
        const len = next === 51 ? (data[p + 1] + 2) * 4 : (data[p + 1] + 1) * 8
        next = data[p]
        p += len
      }
      if (next !== 6 && !(next === 17 && this.udp)) return false
      this.proto = next
    } else {
      return false
    }
    if (this.proto === 17) return this.datagram(data, p, end, ipEnd)
    if (p + 20 > end) return false
    const hlen = (data[p + 12] >> 4) * 4
    if (hlen < 20) return false
    this.sport = data.readUInt16BE(p)
    this.dport = data.readUInt16BE(p + 2)
    this.seq = data.readUInt32BE(p + 4)
    this.ack = data.readUInt32BE(p + 8)
    this.flags = data[p + 13]
    this.window = data.readUInt16BE(p + 14)
    const start = p + hlen
    this.payloadLength = Math.max(0, ipEnd - start)
    this.payloadStart = Math.min(start, end)
    this.payloadEnd = Math.max(this.payloadStart, Math.min(ipEnd, end))
    return true
  }

  /** The UDP header at data[p, ...): ports and payload (RFC 768). */
  private datagram(data: Buffer, p: number, end: number, ipEnd: number): boolean {
    if (p + 8 > end) return false
    this.sport = data.readUInt16BE(p)
    this.dport = data.readUInt16BE(p + 2)
    this.seq = 0
    this.ack = 0
    this.flags = 0
    this.window = 0
    const start = p + 8
    this.payloadLength = Math.max(0, Math.min(ipEnd, p + data.readUInt16BE(p + 4)) - start)
    this.payloadStart = Math.min(start, end)
    this.payloadEnd = Math.max(this.payloadStart, Math.min(start + this.payloadLength, end))
    return true
  }
}

/** Printable form of an address (dotted quad, or RFC 5952 IPv6 as Wireshark shows it). */
export function addressText(data: Buffer, off: number, len: number): string {
  if (len === 4) return `${data[off]}.${data[off + 1]}.${data[off + 2]}.${data[off + 3]}`
  const words: number[] = []
  for (let i = 0; i < 16; i += 2) words.push(data.readUInt16BE(off + i))
  // Longest run (of two or more) of zero words becomes "::" (RFC 5952 section 4.2).
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && words[j] === 0) j++
    if (j - i > bestLen) { best = i; bestLen = j - i }
    i = j
  }
  const hex = words.map((w) => w.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}
