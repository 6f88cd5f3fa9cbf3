// `netkit http` against hostile servers (#24): endless header lines, an endless chunked body,
// random bytes, a byte a second, and a reset in mid-body. Each run must end on its own, keep
// its memory bounded (peak RSS under 300 MiB, from /proc), and count every failure by kind.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type net from 'node:net'
import { join } from 'node:path'
import { root } from '../helpers/cli.js'
import { rawServer } from './servers.js'

const REQUESTS = 3
const MAX_RSS_KIB = 300 * 1024

/** Runs `netkit http URL --json` with a short timeout; resolves with the report, the exit code and the peak RSS (KiB). */
async function load(url: string): Promise<{ code: number | null; report: { requests: number; ok: number; errorKinds: Record<string, number> }; peakKiB: number; stderr: string }> {
  const child = spawn(process.execPath, [join(root, 'bin', 'run.js'), 'http', url, '-c', String(REQUESTS), '-n', String(REQUESTS), '--timeout', '1500', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  child.stdout.on('data', (d) => { out += d })
  child.stderr.on('data', (d) => { err += d })
  let peakKiB = 0
  const sample = (): void => {
    try {
      const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync(`/proc/${child.pid}/status`, 'latin1'))
      if (m) peakKiB = Math.max(peakKiB, Number(m[1]))
    } catch { /* exited */ }
  }
  const sampler = setInterval(sample, 50)
  // Ending on its own is the point: a run still going after 60 s is killed and fails the test.
  const killer = setTimeout(() => child.kill('SIGKILL'), 60_000)
  const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)))
  clearInterval(sampler)
  clearTimeout(killer)
  assert.ok(out.length > 0, `no report (exit ${code}): ${err}`)
  return { code, report: JSON.parse(out), peakKiB, stderr: err }
}

const OK_HEAD = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n'

/** Writes `next()` to the socket every `ms` until it closes. */
function drip(socket: net.Socket, ms: number, next: () => string | Buffer): void {
  const timer = setInterval(() => {
    if (socket.destroyed) { clearInterval(timer); return }
    socket.write(next())
  }, ms)
  socket.on('close', () => clearInterval(timer))
}

const cases: Array<{ name: string; kind: string; serve: (socket: net.Socket) => void }> = [
  {
    name: 'endless header lines',
    kind: 'head-too-large',
    serve: (s) => {
      s.write(OK_HEAD)
      const line = `X-Filler: ${'a'.repeat(8000)}\r\n`
      const pump = (): void => { while (!s.destroyed && s.write(line)) { /* until the buffer is full */ } }
      s.on('drain', pump)
      pump()
    },
  },
  {
    name: 'an endless chunked body',
    kind: 'timeout',
    serve: (s) => {
      s.write(`${OK_HEAD}Transfer-Encoding: chunked\r\n\r\n`)
      const chunk = `4000\r\n${'b'.repeat(0x4000)}\r\n`
      const pump = (): void => { while (!s.destroyed && s.write(chunk)) { /* until the buffer is full */ } }
      s.on('drain', pump)
      pump()
    },
  },
  {
    name: 'random bytes',
    kind: 'parse',
    serve: (s) => { s.write(randomBytes(4096)) },
  },
  {
    name: 'a byte a second',
    kind: 'timeout',
    serve: (s) => {
      const bytes = Buffer.from(`${OK_HEAD}Content-Length: 5\r\n\r\nhello`)
      let i = 0
      drip(s, 1000, () => bytes.subarray(i, ++i))
    },
  },
  {
    name: 'a reset in mid-body',
    kind: 'reset',
    serve: (s) => {
      s.write(`${OK_HEAD}Content-Length: 100000\r\n\r\n${'c'.repeat(1000)}`, () => setTimeout(() => s.resetAndDestroy(), 20))
    },
  },
]

for (const c of cases) {
  test(`netkit http against a server sending ${c.name} ends, stays bounded and counts ${c.kind}`, async () => {
    const server = await rawServer((socket) => c.serve(socket))
    try {
      const r = await load(server.url)
      assert.equal(r.code, 1, r.stderr) // every request failed
      assert.equal(r.report.ok, 0)
      assert.deepEqual(r.report.errorKinds, { [c.kind]: REQUESTS }, JSON.stringify(r.report.errorKinds))
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr)
      assert.ok(r.peakKiB > 0 && r.peakKiB < MAX_RSS_KIB, `peak RSS ${r.peakKiB} KiB`)
    } finally {
      await server.close()
    }
  })
}
