/**
 * `netkit http` end to end: the real CLI against node:http and nginx on loopback, connection
 * counts checked against what the server saw; retries against a server that closes idle
 * connections; errors and bad flags.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { join } from 'node:path'
import { have, netkit, root, run } from '../helpers/cli.js'
import { freePort, nginxBinary, nodeServer, rawServer, startNginx, type NginxServer, type TestServer } from './servers.js'

interface Report {
  requests: number
  ok: number
  errors: number
  requestsPerSec: number
  latencyUs: Record<string, number>
  status: Record<string, number>
  errorKinds: Record<string, number>
  connectionStats: { dialed: number; connected: number; reused: number; fresh: number; retried: number; closed: Record<string, number> }
}

async function load(url: string, args: string[]): Promise<Report> {
  const r = await netkit(['http', url, '--json', ...args])
  assert.equal(r.code, 0, `netkit http ${args.join(' ')} failed: ${r.stderr}`)
  return JSON.parse(r.stdout) as Report
}

/** The issue's acceptance matrix: flags → exact connection count (or a lower bound). */
const cases: Array<{ args: string[]; exact?: number; atLeast?: number }> = [
  { args: ['-c', '10', '-n', '100'], exact: 10 },
  { args: ['-c', '10', '-n', '100', '--think', '2', '--max-idle-per-host', '2'], atLeast: 25 },
  { args: ['-c', '10', '-n', '100', '--think', '2', '--max-idle-per-host', '10'], exact: 10 },
  { args: ['-c', '10', '-n', '100', '--max-conns-per-host', '2'], exact: 2 },
  { args: ['-c', '10', '-n', '100', '--no-keepalive'], exact: 100 },
]

function checkCase(report: Report, server: { connections: number; requests: number }, c: (typeof cases)[number]): void {
  assert.equal(report.requests, 100)
  assert.equal(report.ok, 100)
  assert.equal(report.errors, 0)
  assert.equal(server.requests, 100, 'server saw every request once')
  assert.equal(report.connectionStats.dialed, server.connections, 'report dials = connections the server accepted')
  assert.equal(report.connectionStats.reused + report.connectionStats.fresh, 100)
  // Dials whose request was served first by a returned connection carry no request of their own.
  assert.ok(report.connectionStats.fresh <= server.connections)
  if (c.exact !== undefined) assert.equal(server.connections, c.exact, `${c.args.join(' ')}`)
  if (c.atLeast !== undefined) assert.ok(server.connections >= c.atLeast, `${c.args.join(' ')}: ${server.connections} connections`)
}

describe('netkit http against node:http', () => {
  let server: TestServer
  before(async () => { server = await nodeServer() })
  after(async () => { await server.close() })

  for (const c of cases) {
    it(`${c.args.join(' ')} → ${c.exact ?? `≥ ${c.atLeast}`} connections`, async () => {
      server.connections = 0
      server.requests = 0
      const report = await load(server.url, c.args)
      checkCase(report, server, c)
    })
  }

  it('prints a text report with latency percentiles and connection counts', async () => {
    const r = await netkit(['http', server.url, '-c', '2', '-n', '20'])
    assert.equal(r.code, 0, r.stderr)
    assert.match(r.stdout, /requests\s+20 \(20 answered, 0 failed\), [\d.]+ req\/s/)
    assert.match(r.stdout, /latency µs\s+p50 \d+\s+p90 \d+\s+p99 \d+\s+p99\.9 \d+\s+max \d+/)
    assert.match(r.stdout, /status\s+200 20/)
    assert.match(r.stdout, /connections\s+dialed 2 \(failed 0\), requests on reused 18, on new 2, retried 0/)
    assert.equal(r.stderr, '', 'no progress line when stderr is not a terminal')
  })

  it('runs for a duration and paces with --rate', async () => {
    const report = await load(server.url, ['-c', '2', '-d', '1s', '--rate', '50'])
    assert.ok(report.requests >= 40 && report.requests <= 55, `${report.requests} requests at 50/s for 1 s`)
    assert.equal(report.errors, 0)
  })
})

describe('netkit http against nginx', { skip: nginxBinary() === null ? 'needs nginx (not installed; .ci/run installs it)' : false }, () => {
  let nginx: NginxServer
  before(async () => { nginx = await startNginx() })
  after(async () => { await nginx?.stop() })

  for (const c of cases) {
    it(`${c.args.join(' ')} → ${c.exact ?? `≥ ${c.atLeast}`} connections`, async () => {
      const before = await nginx.counts()
      const report = await load(nginx.url, c.args)
      const now = await nginx.counts()
      checkCase(report, { connections: now.connections - before.connections, requests: now.requests - before.requests }, c)
      assert.equal(report.connectionStats.fresh, now.withRequests - before.withRequests, 'requests on new connections = connections in the access log')
    })
  }

  it('pipelines: -c 2 --pipeline 8 keeps 2 connections', async () => {
    const before = await nginx.counts()
    const report = await load(nginx.url, ['-c', '2', '-n', '400', '--pipeline', '8'])
    const now = await nginx.counts()
    assert.equal(report.ok, 400)
    assert.equal(now.requests - before.requests, 400)
    assert.equal(now.connections - before.connections, 2)
    assert.equal(report.connectionStats.dialed, 2)
  })
})

describe('--warmup', () => {
  it('loads the target first and counts none of it; the connections stay and their figures include it', async () => {
    const server = await nodeServer()
    try {
      const r = await netkit(['http', server.url, '-c', '4', '-d', '300ms', '--warmup', '300ms', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const report = JSON.parse(r.stdout) as Report & { warmupSec: number; durationSec: number; inFlightAtEnd: number }
      assert.equal(report.warmupSec, 0.3)
      assert.ok(report.durationSec >= 0.29 && report.durationSec < 0.6, `measured ${report.durationSec} s`)
      assert.ok(report.ok > 0)
      // The server answered the warm-up too; the report's requests are the measured part only.
      assert.ok(server.requests > report.requests + report.inFlightAtEnd, `server ${server.requests}, report ${report.requests}`)
      assert.equal(report.connectionStats.dialed, 4)
      assert.equal(server.connections, 4, 'the measured run kept the warm-up connections')
      assert.ok(report.connectionStats.reused > report.requests, 'requests on reused connections count the warm-up too')
    } finally {
      await server.close()
    }
  })

  it('needs a duration run: with -n or --rate it is a usage error', async () => {
    for (const extra of [['-n', '10'], ['--rate', '100']]) {
      const r = await netkit(['http', 'http://127.0.0.1:9/', '--warmup', '1s', ...extra])
      assert.equal(r.code, 2, `${extra.join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /--warmup/)
    }
    const bad = await netkit(['http', 'http://127.0.0.1:9/', '--warmup', 'soon'])
    assert.equal(bad.code, 2)
    assert.match(bad.stderr, /invalid --warmup 'soon'/)
  })
})

describe('retries and errors', () => {
  it('a server closing idle connections 100 ms after each response, hit every ~100 ms: no errors for GET', async () => {
    const server = await rawServer((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      const s = sock as typeof sock & { idleTimer?: NodeJS.Timeout }
      clearTimeout(s.idleTimer)
      s.idleTimer = setTimeout(() => sock.end(), 100)
    })
    try {
      const report = await load(server.url, ['-c', '3', '-n', '45', '--think', '100'])
      assert.equal(report.errors, 0, JSON.stringify(report.errorKinds))
      assert.equal(report.ok, 45)
      const c = report.connectionStats
      assert.equal(c.dialed, server.connections)
      assert.equal(typeof c.retried, 'number')
      // Every connection the server closed was either dropped while idle or ended a retried request.
      assert.ok((c.closed['server-closed-idle'] ?? 0) + c.retried > 0, JSON.stringify(c))
    } finally {
      await server.close()
    }
  })

  it('a server that drops every second request on a connection: GETs retried, none lost', async () => {
    const server = await rawServer((sock, _h, _i, conn) => {
      if (conn.requests === 2) sock.destroy()
      else sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    })
    try {
      const report = await load(server.url, ['-c', '1', '-n', '10'])
      assert.equal(report.errors, 0)
      assert.equal(report.ok, 10)
      assert.equal(report.connectionStats.retried, 9)
      assert.equal(report.connectionStats.dialed, 10)
      const text = await netkit(['http', server.url, '-c', '1', '-n', '4', '-m', 'POST', '--body', 'x'])
      assert.match(text.stdout, /requests\s+4 \(2 answered, 2 failed\)/)
      assert.match(text.stdout, /errors\s+(closed|reset) 2/)
      assert.match(text.stdout, /retried 0/)
    } finally {
      await server.close()
    }
  })

  it('unreachable server: per-request connect-refused, exit 1, one line on stderr', async () => {
    const port = await freePort()
    const r = await netkit(['http', `http://127.0.0.1:${port}/`, '-c', '2', '-n', '6', '--json'])
    assert.equal(r.code, 1)
    const report = JSON.parse(r.stdout) as Report
    assert.deepEqual(report.errorKinds, { 'connect-refused': 6 })
    assert.equal(report.connectionStats.dialed, 6)
    assert.equal(r.stderr.trim().split('\n').length, 1)
    assert.match(r.stderr, /^netkit http: all 6 requests failed \(connect-refused: 6\)/)
  })

  it('garbage, truncated, reset and silent servers: error kinds in the report, the run ends', async () => {
    const server = await rawServer((sock, head) => {
      if (head.includes('/garbage')) sock.write('HTTP/9 what\r\n\r\n')
      else if (head.includes('/trunc')) sock.end('HTTP/1.1 200 OK\r\nContent-Length: 50\r\n\r\nshort')
      else if (head.includes('/reset')) sock.resetAndDestroy()
    })
    try {
      const expect: Record<string, string> = { garbage: 'parse', trunc: 'truncated', reset: 'reset', silent: 'timeout' }
      const runs = await Promise.all(Object.keys(expect).map((path) => netkit(['http', `${server.url}${path}`, '-c', '2', '-n', '4', '--timeout', '300', '--json'])))
      Object.values(expect).forEach((kind, i) => {
        const report = JSON.parse(runs[i].stdout) as Report
        assert.deepEqual(report.errorKinds, { [kind]: 4 }, `${Object.keys(expect)[i]}: ${runs[i].stdout}`)
        assert.equal(runs[i].code, 1)
      })
    } finally {
      await server.close()
    }
  })

  it('a listener whose accept queue is full → connect-timeout, and the run ends', { skip: have('python3') ? false : 'needs python3 (to hold a listener with a full backlog)' }, async () => {
    // listen(0) and never accept: once the accept queue holds its connections, Linux drops
    // further SYNs (tcp_abort_on_overflow=0), so a connect hangs until the client gives up.
    const py = spawn('python3', ['-c', [
      'import socket, sys, time',
      's = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(0)',
      'port = s.getsockname()[1]',
      'fill = [socket.socket() for _ in range(3)]',
      'for c in fill: c.setblocking(False); c.connect_ex(("127.0.0.1", port))',
      'time.sleep(0.2)',
      'print(port, flush=True)',
      'sys.stdin.read()',
    ].join('\n')], { stdio: ['pipe', 'pipe', 'inherit'] })
    try {
      const [line] = await once(py.stdout, 'data') as [Buffer]
      const port = Number(line.toString().trim())
      const r = await netkit(['http', `http://127.0.0.1:${port}/`, '-c', '1', '-n', '3', '--timeout', '300', '--json'])
      const report = JSON.parse(r.stdout) as Report
      assert.deepEqual(report.errorKinds, { 'connect-timeout': 3 })
      assert.equal(report.connectionStats.dialed, 3)
    } finally {
      py.kill()
    }
  })

  it('--rate measures latency from the intended send time (coordinated omission corrected)', async () => {
    // One response held back 300 ms: at 100 req/s, ~30 requests were due meanwhile and their
    // latency counts from when they should have been sent, not from when the worker got to them.
    const server = await rawServer((sock, _h, i) => {
      setTimeout(() => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), i === 10 ? 300 : 0)
    })
    try {
      const report = await load(server.url, ['-c', '1', '-n', '60', '--rate', '100'])
      assert.equal(report.ok, 60)
      assert.ok(report.latencyUs.max >= 290_000, `max ${report.latencyUs.max}`)
      assert.ok(report.latencyUs.p90 >= 100_000, `p90 ${report.latencyUs.p90}: the stall must weigh on the queued requests`)
      const plain = await load(server.url, ['-c', '1', '-n', '60'])
      assert.ok(plain.latencyUs.p90 < 100_000, `without --rate only one request is slow (p90 ${plain.latencyUs.p90})`)
    } finally {
      await server.close()
    }
  })

  it('shows a progress line on stderr when it is a terminal', { skip: have('script') ? false : 'needs script(1) to give the CLI a terminal' }, async () => {
    const server = await nodeServer()
    try {
      // script(1) runs the command on a pseudo-terminal; its output (stdout and stderr) is the log.
      const cmd = `${process.execPath} ${join(root, 'bin', 'run.js')} http ${server.url} -c 2 -d 1500ms`
      const r = await run('script', ['-qefc', cmd, '/dev/null'])
      assert.equal(r.code, 0, r.stderr)
      assert.match(r.stdout, /\r\u001b\[K1\.\d s\s+\d+ requests\s+\d+ req\/s\s+0 errors\s+2 connections/)
      assert.match(r.stdout, /requests\s+\d+ \(\d+ answered, 0 failed/)
    } finally {
      await server.close()
    }
  })

  it('bad flags and URLs: one line, exit 2', async () => {
    const bad: string[][] = [
      ['http'],
      ['http', 'ftp://127.0.0.1/'],
      ['http', 'not a url'],
      ['http', 'http://127.0.0.1:1/', '-c', '0'],
      ['http', 'http://127.0.0.1:1/', '-d', 'soon'],
      ['http', 'http://127.0.0.1:1/', '-n', '5', '-d', '5s'],
      ['http', 'http://127.0.0.1:1/', '-m', 'POST', '--pipeline', '4'],
      ['http', 'http://127.0.0.1:1/', '-H', 'no colon'],
      ['http', 'http://127.0.0.1:1/', '--body-file', '/nonexistent/body'],
      ['http', 'http://127.0.0.1:1/', '--rate', 'fast'],
    ]
    const results = await Promise.all(bad.map((args) => netkit(args)))
    results.forEach((r, i) => {
      const expected = bad[i].includes('--body-file') ? 1 : 2
      assert.equal(r.code, expected, `${bad[i].join(' ')}: ${r.stderr}`)
      assert.equal(r.stderr.trim().split('\n').length, 1, `${bad[i].join(' ')}: ${r.stderr}`)
      assert.match(r.stderr, /^netkit http: /)
      assert.equal(r.stdout, '')
    })
  })
})
