/**
 * Issue #4 benchmark: program size. For each expression, netkit's instruction count (optimized,
 * EN10MB) beside libpcap's (`tcpdump -d`, optimized), and the ratio. Target: no more than 1.25x
 * libpcap's count. Prints the worst ratio and the geometric mean.
 * usage: node --import tsx bench/filter-count.ts [EXPRESSIONS-FILE]
 */
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { compileFilter } from '../src/filter/index.js'
import { LinkType } from '../src/pcap/link-types.js'
import { table } from './lib/measure.js'

const defaults = [
  'ip', 'tcp', 'udp', 'icmp', 'ip6', 'arp', 'tcp or udp', 'not tcp',
  'host 10.0.0.1', 'src host 10.0.0.1', 'host 10.0.0.1 or 10.0.0.2', 'host 10.0.0.1 and host 10.0.0.2',
  'net 10.0.0.0/8', 'net 192.168.0.0/16 and not net 192.168.1.0/24', 'host 2001:db8::1', 'net 2001:db8::/32',
  'port 80', 'tcp port 80', 'udp port 53', 'tcp port 80 or tcp port 443', 'port 80 or 443 or 8080', 'dst port 22',
  'portrange 1-1024', 'tcp and not port 22', 'tcp port 80 and host 10.0.0.1', 'host 10.0.0.1 and (port 80 or port 443)',
  'ether host 00:11:22:33:44:55', 'ether broadcast', 'ether multicast', 'ip multicast', 'vlan', 'vlan 100 and tcp port 80',
  'len > 100', 'greater 500', 'tcp[tcpflags] & tcp-syn != 0', 'tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
  'icmp[icmptype] = icmp-echo', 'ip[8] < 64', 'ip proto \\udp', 'ip6 and tcp', 'icmp6', 'not arp and not ip6',
  'tcp[((tcp[12] & 0xf0) >> 2):4] = 0x47455420', '(tcp port 80 or tcp port 443) and not src net 10.0.0.0/8',
  'udp port 53 or tcp port 53 or icmp',
]

const exprs = process.argv[2] ? readFileSync(process.argv[2], 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')) : defaults
const rows: string[][] = [['expression', 'netkit', 'tcpdump -d', 'ratio']]
const ratios: number[] = []
for (const e of exprs) {
  const r = spawnSync('tcpdump', ['-d', e], { encoding: 'utf8' })
  if (r.status !== 0) continue
  const theirs = r.stdout.trim().split('\n').length
  let mine: number
  try {
    mine = compileFilter(e, { linkType: LinkType.EN10MB }).program.length
  } catch (err) {
    rows.push([e, `error: ${(err as Error).message}`, String(theirs), '-'])
    continue
  }
  const ratio = mine / theirs
  ratios.push(ratio)
  rows.push([e.length > 60 ? `${e.slice(0, 57)}...` : e, String(mine), String(theirs), `${ratio.toFixed(2)}${ratio > 1.25 ? ' !' : ''}`])
}
table(rows)
const geo = Math.exp(ratios.reduce((s, r) => s + Math.log(r), 0) / ratios.length)
console.log(`\n${ratios.length} expressions; netkit/libpcap instructions: geometric mean ${geo.toFixed(3)}, worst ${Math.max(...ratios).toFixed(2)}, over 1.25x: ${ratios.filter((r) => r > 1.25).length} (target: none over 1.25x)`)
