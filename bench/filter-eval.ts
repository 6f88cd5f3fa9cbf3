/**
 * Issues #4 and #27 benchmark: the subset job, `tcpdump -r FILE -w OUT EXPR` vs `netkit read -r
 * FILE -w OUT EXPR`, on a synthetic 1M-packet file and on the real capture (wrk against nginx,
 * grown to 1M packets: bench/lib/real-capture.ts). Rounds alternate the tools; medians. For each
 * expression it prints both tools' end-to-end time and ratio, and their packets/s with start-up
 * (each tool's median time on an empty file) subtracted, with that ratio. The tools must select
 * the same packets; with --check, both write real files and netkit's must equal tcpdump's after
 * the 24-byte header (cmp). Last, netkit's peak RSS on the real capture at 1M packets and at
 * --big (default 4M) packets, which must not grow with the file.
 * Targets (#27): start-up excluded >= 1.5x tcpdump's packets/s; end to end >= 1.0x.
 * usage: npm run build && node --import tsx bench/filter-eval.ts [--packets 1000000] [--rounds 3] [--check] [--big 4000000] [--only real|synthetic]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTcpPcap } from './gen-pcap.js'
import { have, measure, median, rate } from './lib/measure.js'
import { realCaptureMissing, realFile } from './lib/real-capture.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const argv = process.argv.slice(2)
const arg = (name: string, fallback: string): string => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback)
const N = Number(arg('--packets', '1000000'))
const rounds = Math.max(1, Number(arg('--rounds', '3')))
const big = Number(arg('--big', '4000000'))
const only = arg('--only', '')
const check = argv.includes('--check')
if (!have('tcpdump')) throw new Error('bench/filter-eval needs tcpdump')

const dir = mkdtempSync(join(tmpdir(), 'netkit-bench-filter-'))
const empty = join(dir, 'empty.pcap')
const node = process.execPath
const netkit = (file: string, out: string, expr: string): string[] => [node, join(root, 'bin', 'run.js'), 'read', '-r', file, '-w', out, ...expr.split(' ').filter((w) => w !== '')]
const tcpdump = (file: string, out: string, expr: string): string[] => ['tcpdump', '-r', file, '-w', out, ...(expr === '' ? [] : [expr])]

/** CPU seconds (user + system) of the last race's commands, medians. */
let raceCpu: number[] = []

/** Median wall seconds of each command over the rounds, the commands' order alternating. */
function race(cmds: string[][]): number[] {
  const times = cmds.map(() => [] as number[])
  const cpu = cmds.map(() => [] as number[])
  for (let round = 0; round < rounds; round++) {
    const order = cmds.map((_, i) => i)
    if (round % 2 === 1) order.reverse()
    for (const i of order) {
      const m = measure(cmds[i][0], cmds[i].slice(1), 1)
      if (m.status !== 0) throw new Error(`${cmds[i].join(' ')} exited ${m.status}`)
      times[i].push(m.wallS)
      cpu[i].push(m.cpuS)
    }
  }
  raceCpu = cpu.map((c) => median(c)!)
  return times.map((t) => median(t)!)
}

/** Packets in a pcap file, counted by tcpdump. */
function count(file: string): number {
  const r = spawnSync('sh', ['-c', `tcpdump -r '${file}' -qn 2>/dev/null | wc -l`], { encoding: 'utf8' })
  return Number(r.stdout.trim())
}

/** Whether b's records (after the file header) are a's, with the same snaplen and link type. */
function sameRecords(a: string, b: string): boolean {
  const r = spawnSync('sh', ['-c', `cmp -s -n 8 -i 16 '${a}' '${b}' && cmp -s -i 24 '${a}' '${b}'`])
  return r.status === 0
}

const sets: Array<{ name: string; file: () => Promise<string>; exprs: string[] }> = [
  { name: 'synthetic', file: async () => { const f = join(dir, 'synthetic.pcap'); generateTcpPcap(f, N); return f }, exprs: [
    'tcp port 80', 'host 10.0.1.7 or host 10.1.0.3', 'tcp[tcpflags] & tcp-syn != 0', 'net 10.0.0.0/16 and (port 443 or port 8443) and len > 200'] },
  { name: 'real', file: () => realFile(N), exprs: [
    'tcp dst port 80', 'host 127.0.0.1', 'net 127.0.0.0/8 and greater 1000', 'tcp[tcpflags] & (tcp-syn|tcp-fin) != 0', 'tcp[((tcp[12]&0xf0)>>2):4] = 0x47455420'] },
]

try {
  generateTcpPcap(empty, 0)
  const [tdStart, nkStart] = race([tcpdump(empty, '/dev/null', ''), netkit(empty, '/dev/null', 'tcp')])
  const [tdStartCpu, nkStartCpu] = raceCpu
  console.log(`start-up (empty file, median of ${rounds}): tcpdump ${tdStart.toFixed(3)} s, netkit ${nkStart.toFixed(3)} s`)
  for (const set of sets) {
    if (only !== '' && set.name !== only) continue
    if (set.name === 'real' && realCaptureMissing().length > 0) { console.log(`real capture skipped: needs ${realCaptureMissing().join(', ')}`); continue }
    const file = await set.file()
    console.log(`\n${set.name}: ${N} packets, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB; ${rounds} rounds, tools alternating, medians (machine shared: compare within this run)`)
    const rows = [['expression', 'matched', 'tcpdump s', 'netkit s', 'ratio', 'tcpdump pkt/s*', 'netkit pkt/s*', 'ratio*', 'cpu ratio*', ...(check ? ['same bytes'] : [])]]
    for (const expr of set.exprs) {
      const [td, nk] = race([tcpdump(file, '/dev/null', expr), netkit(file, '/dev/null', expr)])
      const cpuRatio = (raceCpu[0] - tdStartCpu) / (raceCpu[1] - nkStartCpu)
      const tdOut = join(dir, 'td.pcap')
      const nkOut = join(dir, 'nk.pcap')
      spawnSync(tcpdump(file, tdOut, expr)[0], tcpdump(file, tdOut, expr).slice(1), { stdio: 'ignore' })
      spawnSync(netkit(file, nkOut, expr)[0], netkit(file, nkOut, expr).slice(1), { stdio: 'ignore' })
      const matched = count(tdOut)
      if (count(nkOut) !== matched) throw new Error(`${expr}: tcpdump selected ${matched} packets, netkit ${count(nkOut)}`)
      const same = check ? (sameRecords(tdOut, nkOut) ? 'yes' : 'NO') : ''
      rmSync(tdOut, { force: true })
      rmSync(nkOut, { force: true })
      const tdRun = td - tdStart
      const nkRun = nk - nkStart
      rows.push([expr, String(matched), td.toFixed(3), nk.toFixed(3), `${(td / nk).toFixed(2)}x`, rate(N, tdRun), rate(N, nkRun), `${(tdRun / nkRun).toFixed(2)}x`, `${cpuRatio.toFixed(2)}x`, ...(check ? [same] : [])])
    }
    const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
    for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
    console.log('ratio = tcpdump time / netkit time (> 1: netkit faster). * = start-up (empty file) subtracted; cpu = user + system time.')
  }
  if (only !== 'synthetic' && realCaptureMissing().length === 0 && big > 0) {
    const expr = 'tcp dst port 80'
    const rss = [N, big].map((n) => ({ n, kib: 0 }))
    for (const r of rss) {
      const f = await realFile(r.n)
      r.kib = measure(netkit(f, '/dev/null', expr)[0], netkit(f, '/dev/null', expr).slice(1), 1).maxRssKiB
    }
    console.log(`\nnetkit read -w peak RSS ('${expr}'): ${rss.map((r) => `${(r.kib / 1024).toFixed(0)} MiB at ${r.n} packets`).join(', ')} (flat: memory does not grow with the file)`)
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
