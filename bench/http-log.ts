/**
 * Issue #6 benchmark: on a large generated HTTP capture, `netkit http-log` vs
 * `tshark -Y http -T fields -e http.request.uri` (TCP reassembly on, tshark's default) in one
 * run. Prints time, transactions/s, peak memory of both, and the ratios.
 * usage: node --import tsx bench/http-log.ts [TRANSACTIONS=100000]
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateHttpPcap } from './gen-http.js'
import { have, measure, rate, table } from './lib/measure.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const N = Number(process.argv[2] ?? 100_000)
const dir = mkdtempSync(join(tmpdir(), 'netkit-bench-http-'))
try {
  const file = join(dir, 'http.pcap')
  const packets = generateHttpPcap(file, N)
  console.log(`capture: ${N} transactions, ${packets} packets, ${(statSync(file).size / 1e6).toFixed(0)} MB`)
  const nk = measure(process.execPath, [join(root, 'bin', 'run.js'), 'http-log', '-r', file], 3)
  const rows = [['command', 'wall s', 'transactions/s', 'cpu s', 'peak MiB'],
    ['netkit http-log', nk.wallS.toFixed(2), rate(N, nk.wallS), nk.cpuS.toFixed(2), (nk.maxRssKiB / 1024).toFixed(0)]]
  if (have('tshark')) {
    const ts = measure('tshark', ['-n', '-r', file, '-Y', 'http', '-T', 'fields', '-e', 'http.request.uri'], 1)
    rows.push(['tshark -Y http -e http.request.uri', ts.wallS.toFixed(2), rate(N, ts.wallS), ts.cpuS.toFixed(2), (ts.maxRssKiB / 1024).toFixed(0)])
    table(rows)
    console.log(`\nnetkit is ${(ts.wallS / nk.wallS).toFixed(1)}x tshark's speed (target >= 10x), using ${(100 * nk.maxRssKiB / ts.maxRssKiB).toFixed(0)}% of its peak memory`)
  } else {
    table(rows)
    console.log('tshark not installed: no ratio')
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
