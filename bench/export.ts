/**
 * `netkit export` against the pipeline pcap2parquet uses (`tshark -T fields ... | duckdb COPY
 * ... TO parquet`), side by side in one run on real traffic (bench/lib/real-capture: wrk against
 * nginx, grown to --packets): tshark writes the packets table's columns as CSV, DuckDB (the
 * node library, as the DuckDB CLI would) copies it to Parquet. Rounds alternate the tools; the ratio is peer time /
 * netkit time of the medians (target >= 10x), netkit writing the packets table alone (`--tables
 * packets`), as the peer does. Then netkit export's peak memory, all three tables, at --packets
 * and at --big packets (default 10x; that file is removed afterwards): it must not grow with input.
 *
 *   npm run build && node --import tsx bench/export.ts [--packets 1000000] [--rounds 3] [--big 10000000]
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { root } from '../test/helpers/cli.js'
import { arg, have, measure, median, type Measurement } from './lib/measure.js'
import { realFile } from './lib/real-capture.js'

const packets = Number(arg('--packets', '1000000'))
const rounds = Math.max(1, Number(arg('--rounds', '3')))
const big = Number(arg('--big', String(packets * 10)))

if (!have('tshark') || !have('tcpdump') || !have('wrk') || !have('nginx')) {
  console.log('bench/export needs tshark, tcpdump, wrk and nginx; skipped')
  process.exit(0)
}

const work = mkdtempSync(join(tmpdir(), 'netkit-bench-export-'))
const file = await realFile(packets)
console.log(`${file}: ${packets} packets, ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB; ${rounds} rounds, tools alternating (machine shared: load ${(await import('node:os')).loadavg()[0].toFixed(1)})`)

// The peer: the packets table's columns from tshark as CSV, then DuckDB's COPY to Parquet.
const fields = ['frame.time_epoch', 'frame.number', 'frame.len', 'frame.cap_len', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'udp.srcport', 'udp.dstport', 'ip.proto', 'frame.protocols']
const copy = join(work, 'copy.mjs')
writeFileSync(copy, `import { DuckDBInstance } from ${JSON.stringify(join(root, 'node_modules', '@duckdb', 'node-api', 'lib', 'index.js'))}
const [csv, out] = process.argv.slice(2)
const c = await (await DuckDBInstance.create(':memory:')).connect()
await c.run(\`COPY (SELECT * FROM read_csv('\${csv}', header = false, quote = '"', columns = {${fields.map((f, i) => `'c${i}': '${i === 0 ? 'DOUBLE' : i === 4 || i === 5 || i === 11 ? 'VARCHAR' : 'BIGINT'}'`).join(', ')}})) TO '\${out}' (FORMAT parquet)\`)
`)
const csv = join(work, 'packets.csv')
const peerCmd = `tshark -n -r '${file}' -T fields -E separator=, -E quote=d -E occurrence=f ${fields.map((f) => `-e ${f}`).join(' ')} > '${csv}' && '${process.execPath}' '${copy}' '${csv}' '${join(work, 'peer.parquet')}'`
const netkitArgs = (out: string, input = file, tables = 'packets') => [join(root, 'bin', 'run.js'), 'export', '-q', '-r', input, '-o', out, '--tables', tables]

const peer: Measurement[] = []
const ours: Measurement[] = []
for (let round = 0; round < rounds; round++) {
  const runPeer = () => { peer.push(measure('sh', ['-c', peerCmd], 1)); rmSync(csv, { force: true }) }
  const runOurs = () => { const out = join(work, `ds-${round}`); ours.push(measure(process.execPath, netkitArgs(out), 1)); rmSync(out, { recursive: true, force: true }) }
  if (round % 2 === 0) { runPeer(); runOurs() } else { runOurs(); runPeer() }
  console.log(`round ${round + 1}: tshark+duckdb ${peer[round].wallS.toFixed(2)} s (cpu ${peer[round].cpuS.toFixed(2)}), netkit export --tables packets ${ours[round].wallS.toFixed(2)} s (cpu ${ours[round].cpuS.toFixed(2)}) (status ${peer[round].status}/${ours[round].status})`)
}
const p = median(peer.map((m) => m.wallS))!
const n = median(ours.map((m) => m.wallS))!
const pc = median(peer.map((m) => m.cpuS))!
const nc = median(ours.map((m) => m.cpuS))!
console.log(`packets table, ${packets} packets: tshark -T fields | duckdb COPY ${p.toFixed(2)} s, netkit export ${n.toFixed(2)} s: ${(p / n).toFixed(1)}x wall, ${(pc / nc).toFixed(1)}x CPU (target >= 10x)`)

// Memory: the same at `packets` and at `big` packets.
const rss = (input: string) => {
  const out = join(work, 'ds-mem')
  const m = measure(process.execPath, netkitArgs(out, input, 'packets,flows,http'), 1)
  rmSync(out, { recursive: true, force: true })
  return m
}
const small = rss(file)
const bigFile = await realFile(big)
try {
  const large = rss(bigFile)
  console.log(`netkit export (all tables) peak RSS: ${(small.maxRssKiB / 1024).toFixed(0)} MiB at ${packets} packets (${small.wallS.toFixed(1)} s, cpu ${small.cpuS.toFixed(1)} s), ${(large.maxRssKiB / 1024).toFixed(0)} MiB at ${big} packets (${large.wallS.toFixed(1)} s, cpu ${large.cpuS.toFixed(1)} s): x${(large.maxRssKiB / small.maxRssKiB).toFixed(2)} (target: the same, within a few %)`)
} finally {
  rmSync(bigFile, { force: true })
  rmSync(work, { recursive: true, force: true })
}
