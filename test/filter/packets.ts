/**
 * Hand-made packets for filter conformance: a varied set of network-layer packets (IPv4 with
 * options and fragments, TCP/UDP/SCTP/ICMP/IGMP and other protocols, IPv6 with extension
 * headers, ARP/RARP) wrapped in every link type the compiler supports, plus link-layer cases
 * (broadcast/multicast MACs, 802.1Q/802.1ad tags, 802.3 LLC, truncated captures). The files are
 * classic pcap with packet i stamped i seconds, so tcpdump -tt names the packets it matches.
 */
import { writeFileSync } from 'node:fs'
import { pcapHeader, pcapRecord } from '../helpers/capture-builder.js'

/** One network-layer packet: its EtherType and bytes. */
interface L3 { etherType: number; bytes: Buffer }
/** One record of a file: the bytes captured and the length on the wire. */
export interface Rec { data: Buffer; origLen: number }

const ip4 = (s: string): Buffer => Buffer.from(s.split('.').map(Number))
function ip6(s: string): Buffer {
  const [h, t] = s.includes('::') ? s.split('::') : [s, undefined]
  const g = (x: string | undefined): number[] => (x ? x.split(':').map((v) => parseInt(v, 16)) : [])
  const hs = g(h)
  const ts = g(t)
  const all = t === undefined ? hs : [...hs, ...new Array(8 - hs.length - ts.length).fill(0), ...ts]
  const b = Buffer.alloc(16)
  all.forEach((v, i) => b.writeUInt16BE(v, 2 * i))
  return b
}

function ipv4(src: string, dst: string, proto: number, payload: Buffer, o: { ttl?: number; frag?: number; options?: Buffer; id?: number } = {}): L3 {
  const opts = o.options ?? Buffer.alloc(0)
  const h = Buffer.alloc(20 + opts.length)
  h[0] = 0x40 | ((20 + opts.length) >> 2)
  h.writeUInt16BE(h.length + payload.length, 2)
  h.writeUInt16BE(o.id ?? 0x1234, 4)
  h.writeUInt16BE(o.frag ?? 0x4000, 6)
  h[8] = o.ttl ?? 64
  h[9] = proto
  ip4(src).copy(h, 12)
  ip4(dst).copy(h, 16)
  opts.copy(h, 20)
  return { etherType: 0x0800, bytes: Buffer.concat([h, payload]) }
}

function ipv6(src: string, dst: string, nh: number, payload: Buffer, hops = 64): L3 {
  const h = Buffer.alloc(40)
  h.writeUInt32BE(0x60000000, 0)
  h.writeUInt16BE(payload.length, 4)
  h[6] = nh
  h[7] = hops
  ip6(src).copy(h, 8)
  ip6(dst).copy(h, 24)
  return { etherType: 0x86dd, bytes: Buffer.concat([h, payload]) }
}

function tcp(sport: number, dport: number, flags: number, payload = 0): Buffer {
  const b = Buffer.alloc(20 + payload)
  b.writeUInt16BE(sport, 0); b.writeUInt16BE(dport, 2)
  b.writeUInt32BE(1000, 4); b[12] = 0x50; b[13] = flags; b.writeUInt16BE(512, 14)
  for (let i = 20; i < b.length; i++) b[i] = i & 0xff
  return b
}
function udp(sport: number, dport: number, payload = 8): Buffer {
  const b = Buffer.alloc(8 + payload)
  b.writeUInt16BE(sport, 0); b.writeUInt16BE(dport, 2); b.writeUInt16BE(b.length, 4)
  return b
}
function icmp(type: number, code: number): Buffer {
  const b = Buffer.alloc(16)
  b[0] = type; b[1] = code
  return b
}
const sctp = (sport: number, dport: number): Buffer => udp(sport, dport, 20)
/** An IPv6 extension header of 8 bytes: next header, then length 0. */
const ext = (nh: number, rest: Buffer): Buffer => Buffer.concat([Buffer.from([nh, 0, 0, 0, 0, 0, 0, 0]), rest])
/** An IPv6 fragment header (offset 0, more fragments). */
const frag6 = (nh: number, rest: Buffer): Buffer => Buffer.concat([Buffer.from([nh, 0, 0, 1, 0, 0, 0, 7]), rest])

function arp(op: number, sha: string, spa: string, tpa: string, etherType = 0x0806): L3 {
  const b = Buffer.alloc(28)
  b.writeUInt16BE(1, 0); b.writeUInt16BE(0x0800, 2); b[4] = 6; b[5] = 4; b.writeUInt16BE(op, 6)
  mac(sha).copy(b, 8); ip4(spa).copy(b, 14); ip4(tpa).copy(b, 24)
  return { etherType, bytes: b }
}
const mac = (s: string): Buffer => Buffer.from(s.replace(/:/g, ''), 'hex')

const TCP = 6, UDP = 17, ICMP = 1, IGMP = 2, SCTP = 132, ICMP6 = 58

/** The network-layer packets every link type carries. */
export function networkPackets(): L3[] {
  const p: L3[] = []
  p.push(ipv4('10.0.0.1', '10.0.0.2', TCP, tcp(12345, 80, 0x02)))
  p.push(ipv4('10.0.0.2', '10.0.0.1', TCP, tcp(80, 12345, 0x12)))
  p.push(ipv4('10.0.0.1', '10.0.0.2', TCP, tcp(12345, 80, 0x18, 300)))
  p.push(ipv4('192.168.1.10', '192.168.1.20', TCP, tcp(22, 51000, 0x18, 48), { ttl: 128 }))
  p.push(ipv4('192.168.1.20', '192.168.1.10', TCP, tcp(51000, 22, 0x10), { ttl: 63 }))
  p.push(ipv4('172.16.0.9', '10.9.8.7', TCP, tcp(443, 1024, 0x11), { options: Buffer.from([1, 1, 1, 0]) }))
  p.push(ipv4('172.16.0.9', '10.9.8.7', TCP, tcp(1023, 8080, 0x04), { options: Buffer.alloc(8, 1) }))
  p.push(ipv4('10.0.0.3', '10.0.0.4', TCP, tcp(65535, 0, 0xff)))
  p.push(ipv4('10.0.0.3', '10.0.0.4', TCP, tcp(20, 21, 0x29)))
  p.push(ipv4('10.1.2.3', '8.8.8.8', UDP, udp(5353, 53, 30)))
  p.push(ipv4('8.8.8.8', '10.1.2.3', UDP, udp(53, 5353, 90)))
  p.push(ipv4('0.0.0.0', '255.255.255.255', UDP, udp(68, 67, 300)))
  p.push(ipv4('10.0.0.7', '224.0.0.251', UDP, udp(5353, 5353, 40), { ttl: 1 }))
  p.push(ipv4('10.0.0.7', '239.255.255.250', UDP, udp(40000, 1900, 100), { ttl: 4 }))
  p.push(ipv4('10.0.0.255', '10.0.0.255', UDP, udp(137, 137)))
  p.push(ipv4('172.16.0.1', '172.16.5.5', ICMP, icmp(8, 0)))
  p.push(ipv4('172.16.5.5', '172.16.0.1', ICMP, icmp(0, 0)))
  p.push(ipv4('192.0.2.1', '172.16.0.1', ICMP, icmp(3, 3)))
  p.push(ipv4('192.0.2.1', '172.16.0.1', ICMP, icmp(11, 0), { ttl: 250 }))
  p.push(ipv4('192.168.1.1', '224.0.0.1', IGMP, Buffer.from([0x11, 100, 0, 0, 0, 0, 0, 0]), { ttl: 1 }))
  p.push(ipv4('10.0.0.1', '10.0.0.2', SCTP, sctp(2905, 3868)))
  // Fragments: the first carries the ports, a later one has port-like bytes at the same place.
  p.push(ipv4('10.0.0.5', '10.0.0.6', TCP, tcp(1234, 80, 0x18, 64), { frag: 0x2000, id: 77 }))
  p.push(ipv4('10.0.0.5', '10.0.0.6', TCP, tcp(1234, 80, 0x18, 64), { frag: 0x0011, id: 77 }))
  p.push(ipv4('10.0.0.5', '10.0.0.6', UDP, udp(80, 80, 64), { frag: 0x0020, id: 78 }))
  for (const proto of [47, 50, 51, 103, 112, 89, 4]) p.push(ipv4('198.51.100.1', '198.51.100.2', proto, Buffer.alloc(24, proto)))
  p.push(ipv4('127.0.0.1', '127.0.0.1', TCP, tcp(40000, 6379, 0x18, 20)))
  p.push(ipv4('10.10.10.10', '10.20.30.40', UDP, udp(1000, 2000, 700)))
  p.push(ipv4('10.10.10.10', '10.20.30.40', TCP, tcp(1000, 2000, 0x10, 1400)))
  // IPv6
  p.push(ipv6('2001:db8::1', '2001:db8::2', TCP, tcp(1234, 443, 0x02)))
  p.push(ipv6('2001:db8::2', '2001:db8::1', TCP, tcp(443, 1234, 0x12, 600)))
  p.push(ipv6('fe80::1', 'ff02::1:2', UDP, udp(546, 547)))
  p.push(ipv6('2001:db8:1::5', '2001:db8:2::6', ICMP6, icmp(128, 0)))
  p.push(ipv6('2001:db8:2::6', '2001:db8:1::5', ICMP6, icmp(129, 0)))
  p.push(ipv6('fe80::2', 'ff02::1:ff00:2', ICMP6, icmp(135, 0), 255))
  p.push(ipv6('2001:db8::1', '2001:db8::2', 44, frag6(TCP, tcp(5555, 80, 0x18, 32))))
  p.push(ipv6('2001:db8::1', '2001:db8::2', 44, frag6(UDP, udp(53, 53))))
  p.push(ipv6('fe80::3', 'ff02::16', 0, ext(ICMP6, icmp(143, 0)), 1))
  p.push(ipv6('2001:db8::1', '2001:db8::2', 60, ext(TCP, tcp(80, 8080, 0x10))))
  p.push(ipv6('2001:db8::1', '2001:db8::2', SCTP, sctp(2905, 2905)))
  p.push(ipv6('::1', '::1', UDP, udp(9999, 53)))
  p.push(ipv6('2001:db8:ffff::1', '2001:db8:0:1::9', 103, Buffer.alloc(16)))
  p.push(ipv6('::ffff:10.0.0.1', '2001:db8::2', TCP, tcp(22, 22, 0x18)))
  // ARP and RARP
  p.push(arp(1, '00:11:22:33:44:55', '10.0.0.1', '10.0.0.2'))
  p.push(arp(2, '66:77:88:99:aa:bb', '10.0.0.2', '10.0.0.1'))
  p.push(arp(3, '00:11:22:33:44:55', '0.0.0.0', '0.0.0.0', 0x8035))
  return p
}

const A = '00:11:22:33:44:55'
const B = '66:77:88:99:aa:bb'

function ether(dst: string, src: string, type: number, payload: Buffer, tags: [number, number][] = []): Buffer {
  const parts = [mac(dst), mac(src)]
  for (const [tpid, tci] of tags) { const t = Buffer.alloc(4); t.writeUInt16BE(tpid, 0); t.writeUInt16BE(tci, 2); parts.push(t) }
  const et = Buffer.alloc(2)
  et.writeUInt16BE(type, 0)
  return Buffer.concat([...parts, et, payload])
}

const full = (data: Buffer): Rec => ({ data, origLen: data.length })
/** A record captured with only `snap` bytes of it. */
const snapped = (data: Buffer, snap: number): Rec => ({ data: data.subarray(0, snap), origLen: data.length })

/** Ethernet records: every network packet, then link-layer cases. */
export function etherRecords(): Rec[] {
  const out: Rec[] = []
  const l3 = networkPackets()
  l3.forEach((p, i) => {
    const dst = p.bytes[0] >> 4 === 4 && p.bytes[16] >= 224 && p.bytes[16] < 240 ? `01:00:5e:00:00:${p.bytes[19].toString(16).padStart(2, '0')}`
      : p.etherType === 0x86dd && p.bytes[24] === 0xff ? '33:33:00:00:00:01'
      : p.etherType !== 0x0800 && p.etherType !== 0x86dd && i % 2 === 0 ? 'ff:ff:ff:ff:ff:ff'
      : p.bytes[0] >> 4 === 4 && p.bytes.readUInt32BE(16) === 0xffffffff ? 'ff:ff:ff:ff:ff:ff' : i % 3 === 0 ? B : A
    out.push(full(ether(dst, dst === A ? B : A, p.etherType, p.bytes)))
  })
  const tcp80 = networkPackets()[0]
  const v6 = networkPackets().find((p) => p.etherType === 0x86dd)!
  const dns = networkPackets()[9]
  out.push(full(ether(B, A, 0x0800, tcp80.bytes, [[0x8100, 100]])))
  out.push(full(ether(B, A, 0x86dd, v6.bytes, [[0x8100, 0x2000 | 200]])))
  out.push(full(ether(B, A, 0x0800, dns.bytes, [[0x88a8, 10], [0x8100, 20]])))
  out.push(full(ether(B, A, 0x0800, dns.bytes, [[0x9100, 4095]])))
  out.push(full(ether(B, A, 0x0806, networkPackets().find((p) => p.etherType === 0x0806)!.bytes, [[0x8100, 100]])))
  // 802.3 with LLC (STP), LLDP, MPLS, PPPoE session, IPX-style 802.3 raw.
  const stp = Buffer.concat([Buffer.from([0x42, 0x42, 0x03]), Buffer.alloc(35)])
  out.push(full(ether('01:80:c2:00:00:00', A, stp.length, stp)))
  out.push(full(ether('01:80:c2:00:00:0e', A, 0x88cc, Buffer.alloc(40, 2))))
  out.push(full(ether(B, A, 0x8847, Buffer.concat([Buffer.from([0, 0x01, 0x01, 0x40]), tcp80.bytes]))))
  out.push(full(ether(B, A, 0x8864, Buffer.concat([Buffer.from([0x11, 0, 0, 1, 0, tcp80.bytes.length + 2, 0, 0x21]), tcp80.bytes]))))
  out.push(full(ether('ff:ff:ff:ff:ff:ff', B, 0x0800, networkPackets()[11].bytes)))
  out.push(full(ether('01:00:5e:7f:ff:fa', '02:00:00:00:00:01', 0x0800, networkPackets()[13].bytes)))
  // Truncated captures: loads past the captured bytes reject the packet.
  out.push(snapped(ether(B, A, 0x0800, tcp80.bytes), 30))
  out.push(snapped(ether(B, A, 0x0800, tcp80.bytes), 36))
  out.push(snapped(ether(B, A, 0x0800, tcp80.bytes), 48))
  out.push(snapped(ether(B, A, 0x86dd, v6.bytes), 56))
  out.push(snapped(ether(B, A, 0x0800, networkPackets()[6].bytes), 40))
  out.push(snapped(ether(B, A, 0x0800, tcp80.bytes), 13))
  return out
}

/** Linux cooked v1 (LINUX_SLL) records: packet types 0..4 in turn, one tagged. */
export function sllRecords(): Rec[] {
  const out = networkPackets().map((p, i) => {
    const h = Buffer.alloc(16)
    h.writeUInt16BE(i % 5, 0); h.writeUInt16BE(1, 2); h.writeUInt16BE(6, 4); mac(i % 2 ? A : B).copy(h, 6); h.writeUInt16BE(p.etherType, 14)
    return full(Buffer.concat([h, p.bytes]))
  })
  const h = Buffer.alloc(20)
  h.writeUInt16BE(4, 0); h.writeUInt16BE(1, 2); h.writeUInt16BE(6, 4); mac(A).copy(h, 6); h.writeUInt16BE(0x8100, 14); h.writeUInt16BE(100, 16); h.writeUInt16BE(0x0800, 18)
  out.push(full(Buffer.concat([h, networkPackets()[0].bytes])))
  return out
}

/** Linux cooked v2 (LINUX_SLL2) records: packet types 0..4 in turn. */
export function sll2Records(): Rec[] {
  return networkPackets().map((p, i) => {
    const h = Buffer.alloc(20)
    h.writeUInt16BE(p.etherType, 0); h.writeUInt32BE(2 + (i % 3), 4); h.writeUInt16BE(1, 8); h[10] = i % 5; h[11] = 6; mac(i % 2 ? A : B).copy(h, 12)
    return full(Buffer.concat([h, p.bytes]))
  })
}

/** Records of bare IP packets (RAW), or with a 4-byte family word (NULL little-endian, LOOP). */
export function ipOnlyRecords(kind: 'raw' | 'null' | 'loop'): Rec[] {
  return networkPackets().filter((p) => p.etherType === 0x0800 || p.etherType === 0x86dd).map((p, i) => {
    if (kind === 'raw') return full(p.bytes)
    const h = Buffer.alloc(4)
    const af = p.etherType === 0x0800 ? 2 : [24, 28, 30][i % 3]
    if (kind === 'null') h.writeUInt32LE(af, 0); else h.writeUInt32BE(af, 0)
    return full(Buffer.concat([h, p.bytes]))
  })
}

/** PPP records (HDLC-like framing: ff 03, then the PPP protocol). */
export function pppRecords(): Rec[] {
  return networkPackets().map((p) => {
    const proto = p.etherType === 0x0800 ? 0x0021 : p.etherType === 0x86dd ? 0x0057 : 0xc021
    const h = Buffer.from([0xff, 0x03, proto >> 8, proto & 0xff])
    return full(Buffer.concat([h, p.bytes]))
  })
}

/** Writes records as a classic pcap, packet i (from 1) stamped i seconds. */
export function writePcap(path: string, linkType: number, recs: readonly Rec[]): void {
  writeFileSync(path, Buffer.concat([pcapHeader(linkType, 262144), ...recs.map((r, i) => pcapRecord(i + 1, 0, r.data, r.origLen))]))
}

/** Reads the records of a classic pcap file (either byte order, micro or nano), for merging. */
export function readPcapRecords(buf: Buffer): { linkType: number; recs: Rec[] } {
  const magic = buf.readUInt32LE(0)
  const le = magic === 0xa1b2c3d4 || magic === 0xa1b23c4d
  const u32 = (o: number): number => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
  const recs: Rec[] = []
  let off = 24
  while (off + 16 <= buf.length) {
    const cap = u32(off + 8)
    if (off + 16 + cap > buf.length) break
    recs.push({ data: buf.subarray(off + 16, off + 16 + cap), origLen: u32(off + 12) })
    off += 16 + cap
  }
  return { linkType: u32(20) & 0xffff, recs }
}
