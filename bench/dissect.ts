/**
 * Issue #3 benchmark: on a generated Ethernet/IPv4/TCP file, in one run:
 *  - `netkit read -T text` vs `tcpdump -n -r` (lines/s; target >= 1.5x tcpdump),
 *  - `netkit read -T fields -e ip.src -e tcp.dstport` vs tshark (target >= 20x),
 *  - `netkit read -T ndjson` vs `tshark -T ek`,
 * with peak memory of each, for two file sizes to show memory does not grow with the file.
 * tshark -T fields reads the same file as netkit (its rate at a tenth of the file flatters it:
 * tshark's memory and time per packet grow with the file); -T ek, slower still, reads a tenth.
 * usage: node --import tsx bench/dissect.ts [N=1000000]
 */
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { generateTcpPcap } from './gen-pcap.js'
import { have, measure, rate, table, type Measurement } from './lib/measure.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const N = Number(process.argv[2] ?? 1_000_000)
const dir = mkdtempSync(join(tmpdir(), 'netkit-bench-dissect-'))
try {
  const file = join(dir, 'tcp.pcap')
  const small = join(dir, 'small.pcap')
  generateTcpPcap(file, N)
  generateTcpPcap(small, Math.floor(N / 10))
  const nk = (f: string, args: string[]) => measure(process.execPath, [join(root, 'bin', 'run.js'), 'read', '-r', f, ...args], 1)
  // tshark -T ek on a million packets takes minutes; it runs on a tenth and its rate is scaled.
  const tsN = Math.floor(N / 10)
  const rows: string[][] = [['run', 'packets', 'wall s', 'packets/s', 'cpu s', 'peak MiB']]
  const row = (name: string, n: number, m: Measurement) => rows.push([name, String(n), m.wallS.toFixed(2), rate(n, m.wallS), m.cpuS.toFixed(2), (m.maxRssKiB / 1024).toFixed(0)])
  const text = nk(file, ['-T', 'text'])
  row('netkit -T text', N, text)
  const textSmall = nk(small, ['-T', 'text'])
  row('netkit -T text (1/10 file)', N / 10, textSmall)
  const fields = nk(file, ['-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'])
  row('netkit -T fields -e ip.src -e tcp.dstport', N, fields)
  const fieldsSmall = nk(small, ['-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'])
  row('netkit -T fields (1/10 file)', N / 10, fieldsSmall)
  const ndjson = nk(file, ['-T', 'ndjson'])
  row('netkit -T ndjson', N, ndjson)
  const ratios: string[] = []
  if (have('tcpdump')) {
    const td = measure('tcpdump', ['-n', '-r', file], 1)
    row('tcpdump -n -r', N, td)
    ratios.push(`-T text vs tcpdump -n: ${(td.wallS / text.wallS).toFixed(2)}x (target >= 1.5x)`)
  }
  if (have('tshark')) {
    const tf = measure('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'], 1)
    row('tshark -T fields -e ip.src -e tcp.dstport', N, tf)
    ratios.push(`-T fields vs tshark: ${(tf.wallS / fields.wallS).toFixed(1)}x packets/s (target >= 20x)`)
    const tfs = measure('tshark', ['-n', '-r', small, '-T', 'fields', '-e', 'ip.src', '-e', 'tcp.dstport'], 1)
    row('tshark -T fields (1/10 file)', tsN, tfs)
    ratios.push(`-T fields vs tshark on the 1/10 file, start-up included: ${(tfs.wallS / fieldsSmall.wallS).toFixed(1)}x`)
    const te = measure('tshark', ['-n', '-r', small, '-T', 'ek'], 1)
    row('tshark -T ek', tsN, te)
    ratios.push(`-T ndjson vs tshark -T ek: ${((N / ndjson.wallS) / (tsN / te.wallS)).toFixed(1)}x packets/s`)
  }
  table(rows)
  console.log('')
  for (const r of ratios) console.log(r)
  const mib = (m: Measurement) => (m.maxRssKiB / 1024).toFixed(0)
  console.log(`peak memory: -T text ${mib(text)} MiB on ${N} packets vs ${mib(textSmall)} MiB on ${N / 10}; -T fields ${mib(fields)} vs ${mib(fieldsSmall)} MiB (bounded by the batch and the live flows, not the file)`)
} finally {
  rmSync(dir, { recursive: true, force: true })
}
