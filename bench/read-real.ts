/**
 * Benchmark on real traffic: wrk loads an nginx of our own on loopback (a few keep-alive
 * connections, small and larger responses) while tcpdump records it; the recording is grown to
 * --packets (1,000,000 by default) by appending copies with other client ports and later
 * timestamps, and then, side by side in one run, rounds alternating the tools:
 *  - `netkit read` text vs `tcpdump -n -r` (target >= 1.5x),
 *  - `-T fields -e ip.src -e tcp.dstport` vs tshark (target >= 20x),
 *  - `-Y 'http.request.method == "GET" && tcp.len > 0' -T fields -e http.request.uri` vs tshark
 *    (target >= 20x; n/a while netkit read rejects -Y),
 * with wall and CPU time (user + system) of each run, and netkit's peak memory on the full file
 * and on a file a tenth as long (memory must not grow with the file). Ratios are peer time /
 * netkit time of the medians (> 1: netkit faster).
 *
 *   npm run build && node --import tsx bench/read-real.ts [--packets 1000000] [--rounds 3] [--fresh] [--check] [--baseline DIR]...
 *
 * --baseline DIR also runs the netkit built in DIR (another checkout, e.g. before a change) in
 * the same rounds, and prints its ratios beside this tree's: before and after in one run. It may
 * be given more than once (each baseline is one more run per row and round).
 *
 * The recording and the grown files are kept in $TMPDIR/netkit-read-real/ (keyed by the recipe
 * version and the packet count), so a rerun measures the same bytes; --fresh records again.
 * --check also compares netkit's -T fields output with tshark's (one more tshark run each).
 * The recording's server port is rewritten to 80 in every copy: both tools then take the
 * payload for HTTP by port, as they would on a real web server's capture.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { root } from '../test/helpers/cli.js'
import { have, measure, median, type Measurement } from './lib/measure.js'
import { realCaptureMissing, realFile } from './lib/real-capture.js'

const argv = process.argv.slice(2)
const arg = (name: string, fallback: string): string => {
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
const packets = Number(arg('--packets', '1000000'))
const rounds = Math.max(1, Number(arg('--rounds', '3')))
const fresh = argv.includes('--fresh')
const check = argv.includes('--check')
const baselineDirs = argv.flatMap((a, i) => (a === '--baseline' && i + 1 < argv.length ? [argv[i + 1]] : []))

if (realCaptureMissing().length > 0) {
  console.log('bench/read-real needs tcpdump, wrk and nginx; skipped')
  process.exit(0)
}
if (!existsSync(join(root, 'dist', 'commands', 'read.js'))) {
  console.log('build first: npm run build')
  process.exit(1)
}

const file = await realFile(packets, fresh)
const tenth = await realFile(Math.max(1, Math.floor(packets / 10)), fresh)
console.log(`${file}: ${packets} packets, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB; ${rounds} round${rounds === 1 ? '' : 's'}, tools alternating`)

const netkit = [process.execPath, join(root, 'bin', 'run.js'), 'read', '-r']
const filter = 'http.request.method == "GET" && tcp.len > 0'
interface Row { name: string; peer: string[]; netkit: string[]; baselines: string[][]; target: number }
const rows: Row[] = [
  { name: 'text vs tcpdump -n -r', peer: ['tcpdump', '-n', '-r', file], netkit: [...netkit, file], baselines: [], target: 1.5 },
  { name: '-T fields -e ip.src -e tcp.dstport vs tshark', peer: ['tshark', '-n', '-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'], netkit: [...netkit, file, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'], baselines: [], target: 20 },
  { name: `-Y '${filter}' -e http.request.uri vs tshark`, peer: ['tshark', '-n', '-r', file, '-Y', filter, '-T', 'fields', '-e', 'http.request.uri'], netkit: [...netkit, file, '-Y', filter, '-T', 'fields', '-e', 'http.request.uri'], baselines: [], target: 20 },
]
if (!have('tshark')) {
  console.log('tshark not installed: its rows are skipped')
  rows.splice(1)
}
const own = join(root, 'bin', 'run.js')
for (const dir of baselineDirs) {
  for (const row of rows) row.baselines.push(row.netkit.map((a) => (a === own ? join(dir, 'bin', 'run.js') : a)))
}

const run = (cmd: string[]): Measurement => measure(cmd[0], cmd.slice(1), 1)
/** netkit rejects the row's flags (exit 2: a usage error, e.g. -Y not yet supported). */
const rejected = new Set<Row>()
const times = new Map<Row, { peer: number[]; netkit: number[]; baseline: number[][] }>(rows.map((r) => [r, { peer: [], netkit: [], baseline: r.baselines.map(() => []) }]))
/** CPU seconds (user + system) of the same runs: steadier than wall time on a shared machine. */
const cpu = new Map<Row, { peer: number[]; netkit: number[]; baseline: number[][] }>(rows.map((r) => [r, { peer: [], netkit: [], baseline: r.baselines.map(() => []) }]))
for (let round = 0; round < rounds; round++) {
  for (const row of rows) {
    if (rejected.has(row)) continue
    const t = times.get(row)!
    // Odd rounds run netkit first, so neither tool always follows the other (or the same cache state).
    const tools: Array<'peer' | 'netkit' | number> = ['peer', 'netkit', ...row.baselines.keys()]
    for (const tool of round % 2 === 0 ? tools : tools.reverse()) {
      const cmd = typeof tool === 'number' ? row.baselines[tool] : row[tool]
      const m = run(cmd)
      if (tool === 'netkit' && m.status === 2) { rejected.add(row); break }
      if (m.status !== 0) throw new Error(`${cmd.join(' ')} exited ${m.status}`)
      if (typeof tool === 'number') {
        t.baseline[tool].push(m.wallS)
        cpu.get(row)!.baseline[tool].push(m.cpuS)
      } else {
        t[tool].push(m.wallS)
        cpu.get(row)![tool].push(m.cpuS)
      }
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
  const c = cpu.get(row)!
  const cp = median(c.peer)!
  const cn = median(c.netkit)!
  console.log(`  peer s   ${fmt(t.peer)}  (median ${p.toFixed(2)}; cpu ${fmt(c.peer)})`)
  console.log(`  netkit s ${fmt(t.netkit)}  (median ${n.toFixed(2)}; cpu ${fmt(c.netkit)}: cpu ratio ${(cp / cn).toFixed(2)}x)`)
  t.baseline.forEach((bt, k) => {
    const b = median(bt)!
    const cb = median(c.baseline[k])!
    console.log(`  baseline ${baselineDirs[k]} s ${fmt(bt)}  (median ${b.toFixed(2)}; cpu ${fmt(c.baseline[k])}): baseline ratio ${(p / b).toFixed(2)}x (cpu ${(cp / cb).toFixed(2)}x), this tree ${(p / n).toFixed(2)}x (cpu ${(cp / cn).toFixed(2)}x)`)
  })
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
