/**
 * Benchmark on real traffic: wrk loads an nginx of our own on loopback (a few keep-alive
 * connections, small and larger responses) while tcpdump records it; the recording is grown to
 * --packets (1,000,000 by default) by appending copies with other client ports and later
 * timestamps, and then, side by side in one run, rounds alternating the tools:
 *  - `netkit read` text vs `tcpdump -n -r` (target >= 1.5x),
 *  - `-T fields -e ip.src -e tcp.dstport` vs tshark (target >= 20x),
 *  - `-Y 'http.request.method == "GET" && tcp.len > 0' -T fields -e http.request.uri` vs tshark
 *    (target >= 20x; n/a while netkit read rejects -Y),
 * with netkit's peak memory on the full file and on a file a tenth as long (memory must not
 * grow with the file). Ratios are peer time / netkit time of the medians (> 1: netkit faster).
 *
 *   npm run build && node --import tsx bench/read-real.ts [--packets 1000000] [--rounds 3] [--fresh] [--check] [--baseline DIR]
 *
 * --baseline DIR also runs the netkit in DIR (another build, or this one with some plugins
 * removed) in the same rounds and prints its ratios beside: a before/after in one run.
 *
 * The recording and the grown files are kept in $TMPDIR/netkit-read-real/ (keyed by the recipe
 * version and the packet count), so a rerun measures the same bytes; --fresh records again.
 * --check also compares netkit's -T fields output with tshark's (one more tshark run each).
 * The recording's server port is rewritten to 80 in every copy: both tools then take the
 * payload for HTTP by port, as they would on a real web server's capture.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { cpus, tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from '../test/helpers/cli.js'
import { freeLowPort, recordWithTcpdump, startNginx } from '../test/helpers/servers.js'
import { FileSink } from '../src/pcap/file-sink.js'
import { openCaptureFile } from '../src/pcap/file-reader.js'
import { PcapWriter } from '../src/pcap/pcap-writer.js'
import { have, measure, median, type Measurement } from './lib/measure.js'

const argv = process.argv.slice(2)
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const packets = Number(arg('--packets', '1000000'))
const rounds = Math.max(1, Number(arg('--rounds', '3')))
const fresh = argv.includes('--fresh')
const check = argv.includes('--check')
const baseline = argv.includes('--baseline') ? arg('--baseline', '') : undefined

/** What the recording is made of; a change here is a new cache key. */
const RECIPE = {
  version: 2,
  /**
   * wrk's connections (-c), run time (-d, whole seconds) and pause before each request (ms, its
   * delay() hook): unpaced, wrk and nginx outrun tcpdump on two cores and the kernel drops packets.
   */
  connections: 8,
  delayMs: 1,
  duration: '2s',
  /** Response bodies served, by path, and how often wrk asks for each (its request() rotation). */
  files: { 'small.txt': 120, 'page.html': 2_400, 'medium.json': 8_000, 'large.bin': 32_000 } as Record<string, number>,
  rotation: ['/small.txt', '/small.txt', '/page.html', '/small.txt', '/medium.json', '/small.txt', '/page.html', '/large.bin'],
}
const HTTP_PORT = 80

const cache = join(tmpdir(), 'netkit-read-real')
const base = join(cache, `recording-v${RECIPE.version}.pcap`)
const grown = (n: number): string => join(cache, `real-v${RECIPE.version}-${n}.pcap`)

if (!have('tcpdump') || !have('wrk') || !have('nginx')) {
  console.log('bench/read-real needs tcpdump, wrk and nginx; skipped')
  process.exit(0)
}
if (!existsSync(join(root, 'dist', 'commands', 'read.js'))) {
  console.log('build first: npm run build')
  process.exit(1)
}
mkdirSync(cache, { recursive: true })

/** Records wrk against nginx on loopback into `out`; the server's port. */
async function record(out: string): Promise<number> {
  const dir = join(cache, `nginx-${process.pid}`)
  const site = join(dir, 'site')
  mkdirSync(site, { recursive: true })
  for (const [name, size] of Object.entries(RECIPE.files)) {
    // Incompressible bytes for the binary file; text for the others (nginx gzips none: wrk sends no Accept-Encoding).
    writeFileSync(join(site, name), name.endsWith('.bin') ? Buffer.from(Array.from({ length: size }, (_, i) => (i * 2654435761) >>> 24)) : 'x'.repeat(size - 1) + '\n')
  }
  const script = join(dir, 'rotate.lua')
  writeFileSync(script, `local paths = {${RECIPE.rotation.map((p) => `"${p}"`).join(', ')}}\nlocal i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend\ndelay = function()\n  return ${RECIPE.delayMs}\nend\n`)
  const port = await freeLowPort()
  const nginx = await startNginx(dir, port, site)
  // nginx and wrk share CPU 1, tcpdump has CPU 0: on two cores a starved tcpdump drops packets.
  const pin = have('taskset') && cpus().length >= 2
  if (pin) spawnSync('taskset', ['-pc', '1', String(nginx.child.pid)])
  try {
    // wrk's failure is reported after tcpdump is stopped (the recorder stops it only when traffic() returns).
    let failed = ''
    const counts = await recordWithTcpdump(out, `tcp port ${port}`, async () => {
      const r = spawnSync(pin ? 'taskset' : 'wrk', [...(pin ? ['-c', '1', 'wrk'] : []), '-t1', `-c${RECIPE.connections}`, `-d${RECIPE.duration}`, '-s', script, `http://127.0.0.1:${port}/`], { encoding: 'utf8' })
      if (r.status !== 0) failed = `wrk failed (${r.status}): ${r.stderr}${r.stdout}`
      else console.log(`wrk: ${/Requests\/sec:\s+\S+/.exec(r.stdout)?.[0] ?? r.stdout.trim()}`)
    })
    if (failed !== '') throw new Error(failed)
    console.log(`recorded ${counts.captured} packets (nginx on 127.0.0.1:${port})`)
  } finally {
    await nginx.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  return port
}

/** RFC 1624 incremental update of a 16-bit one's-complement checksum for one 16-bit word. */
function adjustChecksum(sum: number, from: number, to: number): number {
  let s = (~sum & 0xffff) + (~from & 0xffff) + to
  s = (s & 0xffff) + (s >>> 16)
  s = (s & 0xffff) + (s >>> 16)
  return ~s & 0xffff
}

/** Offset of the TCP header of an Ethernet/IPv4/TCP frame at data[off, off + len), or -1. */
function tcpHeader(data: Buffer, off: number, len: number, linkType: number): number {
  if (linkType !== 1 || len < 54 || data.readUInt16BE(off + 12) !== 0x0800 || data[off + 23] !== 6) return -1
  const tcp = 14 + (data[off + 14] & 0x0f) * 4
  return len >= tcp + 20 ? off + tcp : -1
}

/**
 * Writes `n` packets to `out`: the recording again and again, copy k with every client port
 * moved to a port of its own (so each copy's connections are new TCP streams), the server's
 * port as HTTP_PORT, and its times shifted past the copy before.
 */
async function grow(recording: string, serverPort: number, n: number, out: string): Promise<void> {
  // First pass: the time the recording spans, and its client ports (numbered in order seen).
  const clientPorts = new Map<number, number>()
  let first = NaN
  let last = 0
  let count = 0
  for await (const b of (await openCaptureFile(recording)).batches()) {
    count += b.count
    for (let i = 0; i < b.count; i++) {
      if (Number.isNaN(first)) first = b.tsSec[i]
      last = b.tsSec[i]
      const tcp = tcpHeader(b.data, b.offset[i], b.capLen[i], b.linkType[i])
      if (tcp < 0) continue
      for (const at of [tcp, tcp + 2]) {
        const port = b.data.readUInt16BE(at)
        if (port !== serverPort && !clientPorts.has(port)) clientPorts.set(port, clientPorts.size)
      }
    }
  }
  if (count === 0) throw new Error(`${recording} holds no packets`)
  if (1025 + Math.ceil(n / count) * clientPorts.size > 65535) throw new Error(`${recording}: too many client ports (${clientPorts.size}) to give each of ${Math.ceil(n / count)} copies its own`)
  const shift = last - first + 2
  const tmp = `${out}.tmp`
  const w = new PcapWriter(FileSink.create(tmp), { linkType: 1, snaplen: 262144 })
  const scratch = Buffer.allocUnsafe(262144 + 64)
  let written = 0
  for (let copy = 0; written < n; copy++) {
    const reader = await openCaptureFile(recording)
    for await (const b of reader.batches()) {
      for (let i = 0; i < b.count && written < n; i++) {
        const len = b.capLen[i]
        b.data.copy(scratch, 0, b.offset[i], b.offset[i] + len)
        const tcp = tcpHeader(scratch, 0, len, b.linkType[i])
        if (tcp >= 0) {
          let sum = scratch.readUInt16BE(tcp + 16)
          for (const at of [tcp, tcp + 2]) {
            const port = scratch.readUInt16BE(at)
            const to = port === serverPort ? HTTP_PORT : 1025 + copy * clientPorts.size + clientPorts.get(port)!
            sum = adjustChecksum(sum, port, to)
            scratch.writeUInt16BE(to, at)
          }
          scratch.writeUInt16BE(sum, tcp + 16)
        }
        w.writeRecord(scratch, 0, len, b.origLen[i], b.tsSec[i] + copy * shift, b.tsNsec[i])
        written++
      }
    }
  }
  w.close()
  renameSync(tmp, out)
}

/** The grown file of `n` packets, made (and recorded) when not cached. */
let recorded = false
async function realFile(n: number): Promise<string> {
  const file = grown(n)
  if (existsSync(file) && (!fresh || recorded)) return file
  const portFile = `${base}.port`
  if ((fresh && !recorded) || !existsSync(base) || !existsSync(portFile)) {
    writeFileSync(portFile, String(await record(base)))
    recorded = true
  }
  const port = Number(readFileSync(portFile, 'utf8'))
  await grow(base, port, n, file)
  return file
}

const file = await realFile(packets)
const tenth = await realFile(Math.max(1, Math.floor(packets / 10)))
console.log(`${file}: ${packets} packets, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB; ${rounds} round${rounds === 1 ? '' : 's'}, tools alternating`)

const netkit = [process.execPath, join(root, 'bin', 'run.js'), 'read', '-r']
const filter = 'http.request.method == "GET" && tcp.len > 0'
interface Row { name: string; peer: string[]; netkit: string[]; target: number; base?: string[] }
const rows: Row[] = [
  { name: 'text vs tcpdump -n -r', peer: ['tcpdump', '-n', '-r', file], netkit: [...netkit, file], target: 1.5 },
  { name: '-T fields -e ip.src -e tcp.dstport vs tshark', peer: ['tshark', '-n', '-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'], netkit: [...netkit, file, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'], target: 20 },
  { name: `-Y '${filter}' -e http.request.uri vs tshark`, peer: ['tshark', '-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'http.request.uri'], netkit: [...netkit, file, '-Y', filter, '-T', 'fields', '-e', 'http.request.uri'], target: 20 },
]
if (!have('tshark')) {
  console.log('tshark not installed: its rows are skipped')
  rows.splice(1)
}
if (baseline !== undefined) {
  const other = join(baseline, 'bin', 'run.js')
  for (const row of rows) row.base = [process.execPath, other, ...row.netkit.slice(2)]
}

const run = (cmd: string[]): Measurement => measure(cmd[0], cmd.slice(1), 1)
/** netkit rejects the row's flags (exit 2: a usage error, e.g. -Y not yet supported). */
const rejected = new Set<Row>()
const times = new Map<Row, { peer: number[]; netkit: number[]; base: number[] }>(rows.map((r) => [r, { peer: [], netkit: [], base: [] }]))
for (let round = 0; round < rounds; round++) {
  for (const row of rows) {
    if (rejected.has(row)) continue
    const t = times.get(row)!
    // Odd rounds run netkit first, so neither tool always follows the other (or the same cache state).
    const tools = round % 2 === 0 ? ['peer', 'netkit', 'base'] as const : ['base', 'netkit', 'peer'] as const
    for (const tool of tools) {
      const cmd = row[tool]
      if (cmd === undefined) continue
      const m = run(cmd)
      if (tool === 'netkit' && m.status === 2) { rejected.add(row); break }
      if (m.status !== 0) throw new Error(`${cmd.join(' ')} exited ${m.status}`)
      t[tool].push(m.wallS)
    }
  }
}

const fmt = (s: number[]): string => s.map((x) => x.toFixed(2)).join(' ')
console.log('')
for (const row of rows) {
  const t = times.get(row)!
  if (rejected.has(row)) {
    console.log(`${row.name.padEnd(72)} n/a (netkit read rejects these flags: exit 2)  target >= ${row.target}x`)
    continue
  }
  const p = median(t.peer)!
  const n = median(t.netkit)!
  const perRound = t.peer.map((x, i) => x / t.netkit[i])
  console.log(`${row.name.padEnd(72)} ${(p / n).toFixed(2)}x (rounds ${Math.min(...perRound).toFixed(2)}-${Math.max(...perRound).toFixed(2)})  target >= ${row.target}x`)
  console.log(`  peer s   ${fmt(t.peer)}  (median ${p.toFixed(2)})`)
  console.log(`  netkit s ${fmt(t.netkit)}  (median ${n.toFixed(2)})`)
  if (t.base.length > 0) {
    const b = median(t.base)!
    console.log(`  baseline ${fmt(t.base)}  (median ${b.toFixed(2)}): ratio ${(p / b).toFixed(2)}x, this build ${(p / n).toFixed(2)}x`)
  }
}

// Peak memory of netkit read (text, the default) on the full file and on the tenth.
const big = run([...netkit, file])
const small = run([...netkit, tenth])
console.log('')
console.log(`netkit read peak RSS: ${(big.maxRssKiB / 1024).toFixed(0)} MiB on ${packets} packets vs ${(small.maxRssKiB / 1024).toFixed(0)} MiB on ${Math.floor(packets / 10)} (ratio ${(big.maxRssKiB / small.maxRssKiB).toFixed(2)}; flat means ~1)`)

if (check && have('tshark')) {
  for (const row of rows.slice(1)) {
    if (rejected.has(row)) continue
    const out = (cmd: string[]) => spawnSync(cmd[0], cmd.slice(1), { maxBuffer: 1 << 30 }).stdout
    const same = out(row.peer).equals(out(row.netkit))
    console.log(`check ${row.name}: ${same ? 'same output' : 'OUTPUT DIFFERS'}`)
  }
}
