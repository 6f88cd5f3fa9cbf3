/**
 * Issue #7 benchmark: live capture to a file on tmpfs, `tcpdump -w` and `netkit capture -w` on
 * the same veth interface, each alone on the same flood (--together: both at once), while
 * bench/capture-flood.c floods it from the peer network namespace with 64- and 1514-byte frames
 * at top speed and at paced rates. It first measures how fast the file system takes new data:
 * a flood of more bytes per second than that cannot be written whole by any tool.
 * Prints frames sent, frames that reached the interface, captured, dropped, CPU ns per captured
 * packet (all threads, from /proc/PID/task/N/schedstat, start-up excluded) and write() calls per
 * MiB written (syscw of /proc/PID/io: for tcpdump every write() it made, for netkit those of its
 * writer thread, the one that writes the file; node's other threads write eventfds to wake each
 * other), and the netkit/tcpdump ratios. Both tools use the same ring, netkit's default
 * (DEFAULT_BUFFER_BYTES, 32 MiB) unless --ring KIB says otherwise (tcpdump's own default is 2 MiB). On a small machine the flooder,
 * the kernel's softirq work and both captures share the CPUs: compare within a run.
 * Each row shows the CPU time the host took from this virtual machine meanwhile (steal); a row at
 * half the file system's ceiling shows the tools where the file system is not the limit.
 * usage (root): node --import tsx bench/capture.ts [COUNT64=2000000] [COUNT1514=400000] [--together] [--only TEXT] [--rounds N] [--ring KIB]
 * (--ring 4096 shows a 4 MiB ring: it holds under 5 ms of a top-speed flood of 1514-byte frames,
 * less than this VM keeps a woken reader waiting for a CPU at times, and both tools lose packets;
 * --only runs the rows whose label contains TEXT, e.g. --only '1514 B, 300'; --rounds N runs the
 * plan N times, each row's order of tools alternating round by round, and gives each row's median
 * CPU ratio with its range: on a shared VM the kernel's cost of new tmpfs pages, most of the CPU
 * time at 1514 bytes, varies by half from one minute to the next)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { DEFAULT_BUFFER_BYTES } from '../src/capture/live-capture.js'
import { captureSkip, createVethPair, endCounts, type VethPair } from '../test/capture/netns.js'
import { median, stealMeter } from './lib/measure.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt > 0 ? process.argv[onlyAt + 1] : undefined
const roundsAt = process.argv.indexOf('--rounds')
const rounds = roundsAt > 0 ? Math.max(1, Number(process.argv[roundsAt + 1]) || 1) : 1
const args = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && all[i - 1] !== '--only' && all[i - 1] !== '--rounds' && all[i - 1] !== '--ring')
const together = process.argv.includes('--together')
const ringAt = process.argv.indexOf('--ring')
const ringKiB = String(Math.max(64, Number(ringAt > 0 ? process.argv[ringAt + 1] : NaN) || DEFAULT_BUFFER_BYTES / 1024))
const count64 = Number(args[0] ?? 2_000_000)
const count1514 = Number(args[1] ?? 400_000)

const skip = captureSkip()
if (skip) {
  console.log(`bench/capture: skipped: ${skip}`)
  process.exit(0)
}
if (spawnSync('sh', ['-c', 'command -v tcpdump && command -v cc']).status !== 0) {
  console.log('bench/capture: skipped: needs tcpdump and a C compiler (cc)')
  process.exit(0)
}

const work = mkdtempSync(join('/dev/shm', 'netkit-bench-capture-'))
const flood = join(work, 'capture-flood')
const cc = spawnSync('cc', ['-O2', '-o', flood, join(root, 'bench', 'capture-flood.c')], { encoding: 'utf8' })
if (cc.status !== 0) throw new Error(`cc failed: ${cc.stderr}`)

/** CPU nanoseconds used so far by every thread of a process. */
function cpuNs(pid: number): number {
  let total = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      total += Number(readFileSync(`/proc/${pid}/task/${task}/schedstat`, 'utf8').split(' ')[0])
    } catch {
      // the thread ended meanwhile
    }
  }
  return total
}

/**
 * write() calls made so far (syscw of /proc/PID/io, or of /proc/PID/task/TID/io): of the whole
 * process, or only of its threads named `thread` (netkit's writer thread, which makes every
 * write of the file and, at its end, two wake-ups; node's own threads write eventfds).
 */
function writeCalls(pid: number, thread?: string): number {
  const syscw = (path: string) => Number(/syscw: (\d+)/.exec(readFileSync(path, 'utf8'))?.[1] ?? 0)
  if (thread === undefined) return syscw(`/proc/${pid}/io`)
  let total = 0
  for (const task of readdirSync(`/proc/${pid}/task`)) {
    try {
      if (readFileSync(`/proc/${pid}/task/${task}/comm`, 'utf8').trim() === thread) total += syscw(`/proc/${pid}/task/${task}/io`)
    } catch {
      // the thread ended meanwhile
    }
  }
  return total
}

interface Tool { name: string; child: ChildProcess; err: () => string; done: Promise<unknown>; file: string }

async function start(pair: VethPair, name: string, cmd: string, args: string[], file: string): Promise<Tool> {
  const child = spawn('ip', ['netns', 'exec', pair.ns, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d) => { err += d })
  const done = new Promise((resolve) => child.once('close', resolve))
  const t0 = Date.now()
  while (!err.includes('listening on')) {
    if (child.exitCode !== null || Date.now() - t0 > 15_000) throw new Error(`${name} did not start: ${err}`)
    await sleep(20)
  }
  return { name, child, err: () => err, done, file }
}

interface Row { run: string; tool: string; sent: number; atIface: number; captured: number; dropped: number; nsPerPkt: number; writesPerMiB: number; floodMBs: number; steal: number }

/**
 * On a virtual machine whose host takes back the memory the guest frees (free page reporting,
 * after about 2 s), pages freed moments ago are written fast and others at the host's pace: a
 * run that starts right after the last one's file was deleted would write faster than one that
 * starts later. Every run, and the ceiling's measure, waits this long first, so each starts alike.
 */
const SETTLE_MS = 5000

async function runOnce(label: string, size: number, count: number, pps: number | undefined, which: Array<'tcpdump' | 'netkit'>): Promise<Row[]> {
  await sleep(SETTLE_MS)
  const pair = createVethPair()
  try {
    const tools: Tool[] = []
    if (which.includes('tcpdump')) tools.push(await start(pair, 'tcpdump', 'tcpdump', ['-i', pair.iface, '-n', '-Z', 'root', '-B', ringKiB, '-w', join(work, 'td.pcap')], join(work, 'td.pcap')))
    if (which.includes('netkit')) tools.push(await start(pair, 'netkit', process.execPath, [join(root, 'bin', 'run.js'), 'capture', '-i', pair.iface, '-B', ringKiB, '-w', join(work, 'nk.pcap')], join(work, 'nk.pcap')))
    const cpu0 = tools.map((t) => cpuNs(t.child.pid!))
    const rxFile = `/sys/class/net/${pair.iface}/statistics/rx_packets`
    const rx0 = Number(pair.exec(pair.ns, 'cat', [rxFile]))
    const steal = stealMeter()
    const out = pair.exec(pair.peerNs, flood, [pair.peerIface, String(count), String(size), ...(pps ? [String(pps)] : [])])
    const [sent, secs] = out.trim().split(' ').map(Number)
    await sleep(1500) // both drain their rings (tcpdump's block timeout is 1 s)
    const rx = Number(pair.exec(pair.ns, 'cat', [rxFile])) - rx0
    const stolen = steal()
    const cpu = tools.map((t, i) => cpuNs(t.child.pid!) - cpu0[i])
    const writes = tools.map((t) => writeCalls(t.child.pid!, t.name === 'netkit' ? 'netkit-writer' : undefined))
    for (const t of tools) t.child.kill('SIGINT')
    await Promise.all(tools.map((t) => t.done))
    return tools.map((t, i) => {
      const c = endCounts(t.err())
      const mib = statSync(t.file).size / 2 ** 20
      return {
        run: `${label} (${(sent / secs / 1000).toFixed(0)} kpps, ${(sent * (size + 16) / secs / 1e6).toFixed(0)} MB/s)`,
        tool: t.name,
        sent,
        atIface: rx,
        captured: c.captured,
        dropped: c.dropped,
        nsPerPkt: cpu[i] / Math.max(1, c.captured),
        writesPerMiB: writes[i] / Math.max(mib, 1e-9),
        floodMBs: sent * (size + 16) / secs / 1e6,
        steal: stolen,
      }
    })
  } finally {
    pair.cleanup()
    for (const f of ['td.pcap', 'nk.pcap']) rmSync(join(work, f), { force: true })
  }
}

/** MB/s at which the capture directory's file system takes new data: 1 GiB in 1 MiB write() calls into a fresh file. */
function fileSystemCeiling(): number {
  const path = join(work, 'ceiling')
  const chunk = Buffer.alloc(1 << 20, 1)
  const fd = openSync(path, 'w')
  const t0 = performance.now()
  for (let i = 0; i < 1024; i++) writeSync(fd, chunk)
  const secs = (performance.now() - t0) / 1000
  closeSync(fd)
  rmSync(path)
  return (1024 * 2 ** 20) / secs / 1e6
}

try {
  await sleep(SETTLE_MS)
  const ceiling = fileSystemCeiling()
  console.log(`the capture files' file system (tmpfs) takes new data at ${ceiling.toFixed(0)} MB/s here; a flood of more bytes per second than that loses packets whatever the tool`)
  console.log(`both capture with a ring of ${ringKiB} KiB (-B ${ringKiB})`)
  console.log(together ? 'tcpdump and netkit capture the same flood at the same time\n' : 'tcpdump and netkit each capture the same flood alone, one after the other, taking turns at going first (--together: both at once)\n')
  const runs: Row[][] = []
  const modes: Array<Array<'tcpdump' | 'netkit'>> = together ? [['tcpdump', 'netkit']] : [['tcpdump'], ['netkit']]
  const plan: Array<[string, number, number, number | undefined]> = [
    ['64 B, top speed', 64, count64, undefined],
    ['64 B, 200 kpps', 64, Math.min(count64, 600_000), 200_000],
    ['1514 B, top speed', 1514, count1514, undefined],
    ['1514 B, 300 kpps', 1514, count1514, 300_000],
    ['1514 B, 200 kpps', 1514, count1514, 200_000],
    ['1514 B, 50 kpps', 1514, Math.min(count1514, 150_000), 50_000],
  ]
  // Where the file system is the limit, every tool loses; half its ceiling shows the tools.
  const half = Math.round(ceiling * 1e6 / 2 / (1514 + 16) / 1000) * 1000
  if (half > 50_000 && half < 300_000 && half !== 200_000) {
    plan.push([`1514 B, half the file system's ceiling`, 1514, Math.min(count1514, half), half])
  }
  const labels: string[] = []
  for (let round = 0; round < rounds; round++) {
    let row = 0
    for (const [label, size, count, pps] of plan) {
      if (only !== undefined && !label.includes(only)) continue
      if (round === 0) labels.push(label)
      const rows: Row[] = []
      // Alone, the tools take turns at going first, row by row and round by round.
      const order = (row++ + round) % 2 === 0 ? modes : [...modes].reverse()
      for (const which of order) rows.push(...await runOnce(label, size, count, pps, which))
      rows.sort((a, b) => (a.tool === b.tool ? 0 : a.tool === 'tcpdump' ? -1 : 1))
      runs.push(rows)
    }
  }
  const head = ['run', 'tool', 'sent', 'at iface', 'captured', 'dropped', 'lost %', 'CPU ns/pkt', 'write()/MiB', 'steal %']
  const rows = runs.flat().map((r) => [r.run, r.tool, String(r.sent), String(r.atIface), String(r.captured), String(r.dropped),
    (100 * (1 - r.captured / r.atIface)).toFixed(2), r.nsPerPkt.toFixed(0), r.writesPerMiB.toFixed(2), (100 * r.steal).toFixed(1)])
  const widths = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
  for (const r of [head, ...rows]) console.log(r.map((v, c) => v.padEnd(widths[c])).join('  '))
  console.log('')
  let lossTarget = true
  let lossTargetBelowCeiling = true
  for (const label of labels) {
    const pairs = runs.filter(([td]) => td.run.startsWith(`${label} (`))
    const ratios = pairs.map(([td, nk]) => nk.nsPerPkt / td.nsPerPkt)
    const mid = median(ratios) ?? NaN
    const lost = pairs.map(([td, nk]) => [nk.atIface - nk.captured, td.atIface - td.captured])
    const above = pairs.some(([td, nk]) => Math.max(td.floodMBs, nk.floodMBs) > 0.9 * ceiling)
    for (const [nkLost, tdLost] of lost) {
      if (tdLost > 0 && nkLost > 0) {
        lossTarget = false
        if (!above) lossTargetBelowCeiling = false
      }
    }
    const spread = ratios.length > 1 ? `, median of ${ratios.length}: ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)}` : ''
    console.log(`${label}: netkit/tcpdump CPU per packet ${mid.toFixed(2)}x (target <= 1${spread}); lost ${lost.map((l) => l[0]).join(', ')} vs ${lost.map((l) => l[1]).join(', ')} of the frames at the interface${above ? ' (a flood at 90 % of the file system\'s ceiling or more)' : ''}`)
  }
  console.log(`zero loss at every rate where tcpdump loses: ${lossTarget ? 'yes' : 'no'}; at every rate below 90 % of the file system's ceiling: ${lossTargetBelowCeiling ? 'yes' : 'no'}`)
} finally {
  rmSync(work, { recursive: true, force: true })
}
