/**
 * TCP analysis costs nothing when nobody asks for it, and costs little when asked: on the
 * real wrk-against-nginx recording of bench/read-real.ts, side by side in one run, rounds
 * alternating the tools:
 *  - `read` text vs `tcpdump -n -r`, and `-T fields -e ip.src -e tcp.dstport` vs tshark, for
 *    this netkit and for a netkit from before TCP analysis (--before DIR, a built checkout):
 *    the ratios must not fall;
 *  - `-T fields` with analysis fields (tcp.analysis.ack_rtt, bytes_in_flight, flags) vs tshark
 *    printing the same (tshark analyses every packet in any case).
 * Ratios are peer time / netkit time of the medians (> 1: netkit faster).
 *
 *   npm run build && node --import tsx bench/read-real.ts --packets 100000   # makes the file once
 *   node --import tsx bench/tcp-analysis.ts [--packets 100000] [--rounds 3] [--before /path/to/netkit]
 */
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from '../test/helpers/cli.js'
import { measure, median, type Measurement } from './lib/measure.js'

const argv = process.argv.slice(2)
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const packets = Number(arg('--packets', '100000'))
const rounds = Math.max(1, Number(arg('--rounds', '3')))
const before = arg('--before', '')
const file = join(tmpdir(), 'netkit-read-real', `real-v2-${packets}.pcap`)
if (!existsSync(file)) {
  console.error(`no ${file}: run node --import tsx bench/read-real.ts --packets ${packets} first`)
  process.exit(2)
}

const nk = (dir: string, args: string[]): [string, string[]] => [process.execPath, [join(dir, 'bin', 'run.js'), 'read', '-r', file, ...args]]
const fields = ['-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport']
const analysis = ['-T', 'fields', '-e', 'tcp.stream', '-e', 'tcp.analysis.ack_rtt', '-e', 'tcp.analysis.bytes_in_flight', '-e', 'tcp.analysis.flags']

interface Row { name: string; peer: [string, string[]]; runs: Array<{ label: string; cmd: [string, string[]] }> }
const versions = (args: string[]) => [
  { label: 'now', cmd: nk(root, args) },
  ...(before ? [{ label: 'before', cmd: nk(before, args) }] : []),
]
const rows: Row[] = [
  { name: 'text vs tcpdump', peer: ['tcpdump', ['-n', '-r', file]], runs: versions([]) },
  { name: 'fields vs tshark', peer: ['tshark', ['-n', '-r', file, ...fields]], runs: versions(fields) },
  { name: 'analysis fields vs tshark', peer: ['tshark', ['-n', '-r', file, ...analysis]], runs: [{ label: 'now', cmd: nk(root, analysis) }] },
]

const times = new Map<string, Measurement[]>()
const add = (key: string, m: Measurement) => times.set(key, [...(times.get(key) ?? []), m])
for (let r = 0; r < rounds; r++) {
  for (const row of rows) {
    add(`${row.name}/peer`, measure(row.peer[0], row.peer[1], 1))
    for (const v of row.runs) add(`${row.name}/${v.label}`, measure(v.cmd[0], v.cmd[1], 1))
  }
}
console.log(`${packets} packets, ${rounds} rounds (medians; the machine may be shared)`)
for (const row of rows) {
  const peer = median(times.get(`${row.name}/peer`)!.map((m) => m.wallS)) ?? NaN
  for (const v of row.runs) {
    const t = median(times.get(`${row.name}/${v.label}`)!.map((m) => m.wallS)) ?? NaN
    console.log(`${row.name.padEnd(28)} ${v.label.padEnd(7)} peer ${peer.toFixed(2)} s  netkit ${t.toFixed(2)} s  ratio ${(peer / t).toFixed(2)}x`)
  }
}
