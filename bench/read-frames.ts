/**
 * Issue #2 benchmark: streaming a 1,000,000-packet file. In one run: `netkit read -T fields -e
 * frame.len` vs `tshark -T fields -e frame.len` vs `capinfos -c`, plus netkit's reader as a
 * library (records/s from disk). Prints packets/s, ratios, and peak memory. Startup is measured
 * on an empty file and also subtracted, so the streaming rate is shown apart from process start.
 * usage: node --import tsx bench/read-frames.ts [N=1000000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { openCaptureFile } from '../src/pcap/file-reader.js'
import { generateTcpPcap } from './gen-pcap.js'
import { have, measure, rate, table, type Measurement } from './lib/measure.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const N = Number(process.argv[2] ?? 1_000_000)
const dir = mkdtempSync(join(tmpdir(), 'netkit-bench-'))
const file = join(dir, 'bench.pcap')
const empty = join(dir, 'empty.pcap')
try {
  generateTcpPcap(file, N)
  generateTcpPcap(empty, 0)
  console.log(`file: ${N} packets, ${(statSync(file).size / 1e6).toFixed(1)} MB (page cache warm after the first run; best of 3)`)

  // The reader alone, in this process: records/s streaming from disk.
  let best = Infinity
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    const reader = await openCaptureFile(file)
    let n = 0
    for await (const b of reader.batches()) n += b.count
    if (n !== N) throw new Error(`reader saw ${n} records, expected ${N}`)
    best = Math.min(best, (performance.now() - t0) / 1000)
  }
  console.log(`netkit reader (library): ${rate(N, best)} records/s streaming from disk (target >= 5 M/s)\n`)

  const node = process.execPath
  const netkitArgs = (f: string) => [join(root, 'bin', 'run.js'), 'read', '-r', f, '-T', 'fields', '-e', 'frame.len']
  const rows: Array<[string, Measurement, Measurement | undefined]> = []
  rows.push(['netkit read -T fields -e frame.len', measure(node, netkitArgs(file)), measure(node, netkitArgs(empty))])
  if (have('capinfos')) rows.push(['capinfos -c', measure('capinfos', ['-c', file]), measure('capinfos', ['-c', empty])])
  if (have('tshark')) rows.push(['tshark -T fields -e frame.len', measure('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.len'], 1), measure('tshark', ['-r', empty, '-T', 'fields', '-e', 'frame.len'], 1)])

  const out: string[][] = [['command', 'wall s', 'packets/s', 'startup s', 'streaming/s', 'cpu s', 'peak MiB']]
  for (const [name, m, e] of rows) {
    const streaming = e ? m.wallS - e.wallS : m.wallS
    out.push([name, m.wallS.toFixed(3), rate(N, m.wallS), e ? e.wallS.toFixed(3) : '-', rate(N, streaming), m.cpuS.toFixed(2), (m.maxRssKiB / 1024).toFixed(1)])
  }
  table(out)
  const nk = rows[0]
  console.log('')
  for (const [name, m, e] of rows.slice(1)) {
    const whole = m.wallS / nk[1].wallS
    const stream = (m.wallS - (e?.wallS ?? 0)) / (nk[1].wallS - (nk[2]?.wallS ?? 0))
    console.log(`netkit vs ${name}: ${whole.toFixed(2)}x end to end, ${stream.toFixed(2)}x streaming (startup excluded)`)
  }
  console.log('targets: >= 0.75x capinfos; >= 5 M records/s streaming')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
