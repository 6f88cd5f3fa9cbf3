/**
 * `netkit export`'s memory follows the live connections and one chunk in conversion, never the
 * input's size: on the benchmarks' real capture (wrk against nginx, bench/lib/real-capture.ts)
 * at N and 10N packets, cut into small chunks so that the larger input converts ten times as
 * many, the peak RSS (VmHWM, DuckDB's threads included) of the larger export stays within 10%
 * of the smaller one's (measured: 4-6%; a leak of 100 bytes a packet makes it 60%). The packet
 * counts are checked too, so the larger run did read 10x. The 1M/10M figures are in
 * docs/performance.md ("Export: how the Parquet files are written").
 */
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { needs, root, run, tempDir } from '../helpers/cli.js'
import { isRoot } from '../helpers/servers.js'

const SMALL = 20_000
const LARGE = 200_000
/**
 * Staged CSV bytes per chunk: small, so that 20k packets already convert some forty chunks
 * (DuckDB's allocator has settled after ten or so) and 200k ten times as many.
 */
const CHUNK = String(64 << 10)

const skip = !isRoot() ? 'needs root to record the real capture on loopback' : needs('tcpdump', 'wrk', 'nginx')

const { dir, cleanup } = tempDir('netkit-export-memory-')
/** The benchmarks' cache of real captures (bench/lib/real-capture.ts), and what it held before. */
const cache = join(tmpdir(), 'netkit-read-real')
const cached = existsSync(cache) ? new Set(readdirSync(cache)) : new Set<string>()
after(() => {
  cleanup()
  // Only what this test added to the cache goes (a benchmark's files are left as they were).
  if (existsSync(cache)) for (const f of readdirSync(cache)) if (!cached.has(f)) rmSync(join(cache, f), { force: true })
})

/** The peak RSS (KiB) and the summary line of `netkit export` (all tables) of `file`. */
async function peak(file: string, name: string): Promise<{ kib: number; stderr: string }> {
  const out = join(dir, `peak-${name}`)
  // VmHWM read as the process exits: the high-water mark of every thread's memory. V8 grows
  // its young generation (to 2 x 16 MiB) once enough objects have survived, which a short run
  // may not reach: capped alike in both runs, so the comparison sees what netkit keeps.
  const hook = "data:text/javascript,import{readFileSync as r,writeFileSync as w}from'node:fs';" +
    "process.on('exit',()=>w(process.env.NETKIT_TEST_PEAK,/VmHWM:\\s+(\\d+)/.exec(r('/proc/self/status','utf8'))[1]))"
  const r = await run(process.execPath, ['--max-semi-space-size=4', `--import=${hook}`, join(root, 'bin', 'run.js'), 'export', '-r', file, '-o', join(dir, name)], {
    env: { ...process.env, NETKIT_EXPORT_CHUNK_BYTES: CHUNK, NETKIT_TEST_PEAK: out },
    timeoutMs: 180_000,
  })
  assert.equal(r.code, 0, r.stderr)
  return { kib: Number(readFileSync(out, 'utf8')), stderr: r.stderr }
}

test('export peak memory is the same at 20k and at 200k packets', { skip, timeout: 300_000 }, async (t) => {
  const { realFile } = await import('../../bench/lib/real-capture.js')
  const files = [await realFile(SMALL), await realFile(LARGE)]
  const small = await peak(files[0], 'small')
  const large = await peak(files[1], 'large')
  const rows = (s: string) => Number(/: (\d+) packets/.exec(s)?.[1])
  assert.equal(rows(small.stderr), SMALL, small.stderr)
  assert.equal(rows(large.stderr), LARGE, large.stderr)
  const ratio = large.kib / small.kib
  const figures = `peak RSS ${(small.kib / 1024).toFixed(0)} MiB at ${SMALL} packets, ${(large.kib / 1024).toFixed(0)} MiB at ${LARGE} (x${ratio.toFixed(2)})`
  t.diagnostic(figures)
  assert.ok(ratio < 1.1, figures)
})
