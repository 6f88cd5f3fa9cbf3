/**
 * Benchmark helpers: run a command with its stdout to /dev/null and measure wall time, CPU time
 * and peak memory (from /usr/bin/time when present, else wall time only). Best of N runs.
 */
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** One measured run. */
export interface Measurement {
  wallS: number
  cpuS: number
  maxRssKiB: number
  status: number | null
}

const TIME = '/usr/bin/time'

/** Runs `cmd args` `runs` times (stdout discarded) and returns the fastest run. */
export function measure(cmd: string, args: string[], runs = 3, env: NodeJS.ProcessEnv = process.env): Measurement {
  let best: Measurement | undefined
  for (let i = 0; i < runs; i++) {
    const m = once(cmd, args, env)
    if (!best || m.wallS < best.wallS) best = m
  }
  return best!
}

function once(cmd: string, args: string[], env: NodeJS.ProcessEnv): Measurement {
  const stats = join(tmpdir(), `netkit-bench-time-${process.pid}`)
  const useTime = existsSync(TIME)
  const t0 = process.hrtime.bigint()
  const r = useTime
    ? spawnSync(TIME, ['-f', '%e %U %S %M', '-o', stats, cmd, ...args], { stdio: ['ignore', 'ignore', 'pipe'], env, maxBuffer: 1 << 26 })
    : spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env })
  const wallS = Number(process.hrtime.bigint() - t0) / 1e9
  if (!useTime) return { wallS, cpuS: NaN, maxRssKiB: NaN, status: r.status }
  const [, user, sys, rss] = readFileSync(stats, 'utf8').trim().split('\n').pop()!.split(' ').map(Number)
  rmSync(stats, { force: true })
  return { wallS, cpuS: user + sys, maxRssKiB: rss, status: r.status }
}

/**
 * Starts counting the CPU time the host takes from this virtual machine (steal, from /proc/stat);
 * the returned function gives it as a fraction of all the machine's CPU time since.
 */
export function stealMeter(): () => number {
  const ticks = () => {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number)
    return { total: f.slice(0, 8).reduce((a, b) => a + b, 0), steal: f[7] ?? 0 }
  }
  const start = ticks()
  return () => {
    const now = ticks()
    return (now.steal - start.steal) / Math.max(1, now.total - start.total)
  }
}

/** Whether a command is on PATH. */
export function have(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0
}

/** Formats a rate. */
export function rate(n: number, seconds: number): string {
  const r = n / seconds
  return r >= 1e6 ? `${(r / 1e6).toFixed(2)} M/s` : r >= 1e3 ? `${(r / 1e3).toFixed(1)} k/s` : `${r.toFixed(0)} /s`
}

/** The median of `values` (the mean of the middle two for an even count), or null when empty. */
export function median(values: number[]): number | null {
  const v = [...values].sort((a, b) => a - b)
  if (v.length === 0) return null
  return v.length % 2 === 1 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2
}

/** Prints a table of rows (arrays of cells) with aligned columns. */
export function table(rows: string[][]): void {
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)))
  for (const r of rows) console.log(r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  '))
}

/** The value after `--name` on the command line, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const argv = process.argv.slice(2)
  const i = argv.indexOf(name)
  return i >= 0 ? argv[i + 1] : fallback
}
