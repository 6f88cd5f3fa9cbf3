/**
 * Issue #24 start-up benchmark: a tiny `netkit read` (3 packets of real DNS traffic from the
 * shared corpus, printed as text, and written with -w) beside a bare `node -e 0`, `tcpdump -r`
 * and `tshark -r` on the same packets. Rounds alternate the order of the commands; the medians
 * of wall time (and of CPU time, steadier on a shared machine) are printed with netkit's ratio
 * to `node -e 0`. Target: a tiny read within 2x of node -e 0.
 *
 *   npm run build && node --import tsx bench/startup.ts [--rounds 15]
 */
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { corpus, root } from '../test/helpers/cli.js'
import { have, measure, median } from './lib/measure.js'

const argv = process.argv.slice(2)
const rounds = Math.max(1, Number(argv[argv.indexOf('--rounds') + 1] || 15))
const dir = mkdtempSync(join(tmpdir(), 'netkit-bench-startup-'))
const tiny = join(dir, 'tiny.pcap')
try {
  const cut = spawnSync('tcpdump', ['-r', join(corpus, 'tcpdump', 'dns_udp.pcap'), '-c', '3', '-w', tiny], { encoding: 'utf8' })
  if (cut.status !== 0) throw new Error(`tcpdump could not cut the tiny file: ${cut.stderr}`)
  const node = process.execPath
  const run = [node, join(root, 'bin', 'run.js'), 'read', '-r', tiny]
  const rows: Array<{ name: string; cmd: string[] }> = [
    { name: 'node -e 0', cmd: [node, '-e', '0'] },
    { name: 'netkit read (text)', cmd: run },
    { name: 'netkit read -w /dev/null', cmd: [...run, '-w', '/dev/null'] },
    { name: 'netkit read -T fields -e ip.src', cmd: [...run, '-T', 'fields', '-e', 'ip.src'] },
    { name: 'tcpdump -n -r', cmd: ['tcpdump', '-n', '-r', tiny] },
    { name: 'tshark -n -r', cmd: ['tshark', '-n', '-r', tiny] },
  ].filter((r) => have(r.cmd[0]))
  const wall = new Map<string, number[]>(rows.map((r) => [r.name, []]))
  const cpu = new Map<string, number[]>(rows.map((r) => [r.name, []]))
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? rows : [...rows].reverse()
    for (const r of order) {
      const m = measure(r.cmd[0], r.cmd.slice(1), 1)
      if (m.status !== 0) throw new Error(`${r.cmd.join(' ')} exited ${m.status}`)
      wall.get(r.name)!.push(m.wallS)
      cpu.get(r.name)!.push(m.cpuS)
    }
  }
  const base = median(wall.get('node -e 0')!)!
  const baseCpu = median(cpu.get('node -e 0')!)!
  console.log(`${rounds} rounds, order alternating; medians (the machine may be shared: compare within this run)\n`)
  console.log(`${'command'.padEnd(34)} ${'wall ms'.padStart(8)} ${'x node'.padStart(7)} ${'cpu ms'.padStart(8)} ${'x node'.padStart(7)}`)
  for (const r of rows) {
    const w = median(wall.get(r.name)!)!
    const c = median(cpu.get(r.name)!)!
    console.log(`${r.name.padEnd(34)} ${(w * 1000).toFixed(0).padStart(8)} ${(w / base).toFixed(2).padStart(7)} ${(c * 1000).toFixed(0).padStart(8)} ${(Number.isNaN(c / baseCpu) ? NaN : c / baseCpu).toFixed(2).padStart(7)}`)
  }
  console.log('\nTarget: netkit read (text) within 2x of node -e 0 (wall).')
} finally {
  rmSync(dir, { recursive: true, force: true })
}
