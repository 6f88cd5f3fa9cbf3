/**
 * Issue #4 benchmark: filter evaluation on a 1,000,000-packet file, in one run: `tcpdump -r FILE
 * EXPR -w /dev/null` vs `netkit read -r FILE EXPR -w /dev/null` (end to end, and with process
 * startup, measured on an empty file, subtracted), plus netkit's library: packets/s of read +
 * filter (BatchFilter over the reader's batches) and of the compiled filter alone. Both tools
 * must select the same number of packets. Target: faster than tcpdump's read-plus-filter.
 * usage: node --import tsx bench/filter-eval.ts [N=1000000]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BatchFilter } from '../src/filter/batch-filter.js'
import { openCaptureFile } from '../src/pcap/file-reader.js'
import { RecordBatch } from '../src/pcap/record-batch.js'
import { generateTcpPcap } from './gen-pcap.js'
import { have, measure, rate, table } from './lib/measure.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const N = Number(process.argv[2] ?? 1_000_000)
const exprs = [
  'tcp port 80',
  'host 10.0.1.7 or host 10.1.0.3',
  'tcp[tcpflags] & tcp-syn != 0',
  'net 10.0.0.0/16 and (port 443 or port 8443) and len > 200',
]
if (!have('tcpdump')) throw new Error('bench/filter-eval needs tcpdump')
const dir = mkdtempSync(join(tmpdir(), 'netkit-bench-filter-'))
const file = join(dir, 'bench.pcap')
const empty = join(dir, 'empty.pcap')

/** Packets selected, by tcpdump's count line ("N packets captured" is not printed for -r; use -w - | count). */
function tcpdumpCount(expr: string): number {
  const r = spawnSync('sh', ['-c', `tcpdump -r '${file}' -w - '${expr}' 2>/dev/null | tcpdump -r - -qn 2>/dev/null | wc -l`], { encoding: 'utf8' })
  return Number(r.stdout.trim())
}

/** A batch that stays valid after the reader moves on (the reader reuses its batches). */
function copyBatch(b: RecordBatch): RecordBatch {
  const c = new RecordBatch(b.count)
  c.reset(Buffer.from(b.data), b.firstNumber, b.interfaces)
  c.count = b.count
  for (const k of ['offset', 'capLen', 'origLen', 'tsSec', 'tsNsec', 'iface', 'linkType', 'kind'] as const) c[k].set(b[k].subarray(0, b.count))
  return c
}

try {
  generateTcpPcap(file, N)
  generateTcpPcap(empty, 0)
  console.log(`file: ${N} packets, ${(statSync(file).size / 1e6).toFixed(1)} MB (page cache warm; best of 3)\n`)
  const node = process.execPath
  const rows: string[][] = [['expression', 'matched', 'tcpdump s', 'netkit s', 'ratio', 'tcpdump pkt/s*', 'netkit pkt/s*', 'ratio*', 'lib read+filter', 'lib filter only']]
  const tdEmpty = measure('tcpdump', ['-r', empty, '-w', '/dev/null'])
  const nkEmpty = measure(node, [join(root, 'bin', 'run.js'), 'read', '-r', empty, '-w', '/dev/null', 'tcp'])
  for (const expr of exprs) {
    const td = measure('tcpdump', ['-r', file, '-w', '/dev/null', expr])
    const nk = measure(node, [join(root, 'bin', 'run.js'), 'read', '-r', file, '-w', '/dev/null', ...expr.split(' ')])
    if (td.status !== 0 || nk.status !== 0) throw new Error(`${expr}: tcpdump ${td.status}, netkit ${nk.status}`)
    // Library: reader + BatchFilter, and the filter alone over batches kept in memory.
    let libBest = Infinity
    let matched = 0
    const kept: RecordBatch[] = []
    for (let run = 0; run < 3; run++) {
      const t0 = performance.now()
      const reader = await openCaptureFile(file)
      const f = new BatchFilter(expr, reader.interfaces[0]?.linkType)
      matched = 0
      for await (const b of reader.batches()) {
        matched += f.apply(b)
        if (run === 0 && kept.length < 64) kept.push(copyBatch(b))
      }
      await reader.close()
      libBest = Math.min(libBest, (performance.now() - t0) / 1000)
    }
    const f = new BatchFilter(expr, 1)
    let onlyBest = Infinity
    let keptCount = 0
    for (const b of kept) keptCount += b.count
    for (let run = 0; run < 5; run++) {
      const t0 = performance.now()
      for (const b of kept) f.apply(b)
      onlyBest = Math.min(onlyBest, (performance.now() - t0) / 1000)
    }
    const want = tcpdumpCount(expr)
    if (want !== matched) throw new Error(`${expr}: tcpdump selected ${want} packets, netkit ${matched}`)
    const tdStream = td.wallS - tdEmpty.wallS
    const nkStream = nk.wallS - nkEmpty.wallS
    rows.push([expr, String(matched), td.wallS.toFixed(3), nk.wallS.toFixed(3), `${(td.wallS / nk.wallS).toFixed(2)}x`,
      rate(N, tdStream), rate(N, nkStream), `${(tdStream / nkStream).toFixed(2)}x`, rate(N, libBest), rate(keptCount, onlyBest)])
  }
  table(rows)
  console.log('\nratio = tcpdump time / netkit time (> 1: netkit faster). * = process startup (empty file) subtracted.')
  console.log(`startup: tcpdump ${tdEmpty.wallS.toFixed(3)} s, netkit ${nkEmpty.wallS.toFixed(3)} s. Target: netkit faster than tcpdump's read-plus-filter.`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
