/**
 * HTTP/1.1 framing against raw loopback servers that send exactly the bytes under test:
 * Content-Length, chunked with trailers (also one byte per segment), read-until-close, HEAD,
 * 204, 304, 1xx, Expect: 100-continue, HTTP/1.0, Connection: close, Keep-Alive timeout hint, and
 * the failures: garbage, truncation, resets, silence, refused connections.
 */
import assert from 'node:assert/strict'
import net from 'node:net'
import { once } from 'node:events'
import { after, describe, it } from 'node:test'
import { HttpError } from '../../src/errors.js'
import { Transport, type HttpResponse } from '../../src/http/transport.js'
import { freePort, rawServer, type TestServer } from './servers.js'
import { netkit } from '../helpers/cli.js'

const servers: TestServer[] = []
const transports: Transport[] = []
after(async () => {
  for (const t of transports) t.close()
  for (const s of servers) await s.close()
})

async function serve(handler: Parameters<typeof rawServer>[0]): Promise<TestServer> {
  const s = await rawServer(handler)
  servers.push(s)
  return s
}

function transport(options: ConstructorParameters<typeof Transport>[0] = {}): Transport {
  const t = new Transport(options)
  transports.push(t)
  return t
}

/** Writes bytes one at a time with a pause, so the client sees every possible split. */
async function dribble(socket: net.Socket, bytes: string): Promise<void> {
  for (const ch of Buffer.from(bytes, 'latin1')) {
    socket.write(Buffer.from([ch]))
    await new Promise((r) => setImmediate(r))
  }
}

async function failure(p: Promise<HttpResponse>): Promise<HttpError> {
  try {
    await p
  } catch (err) {
    assert.ok(err instanceof HttpError, `expected HttpError, got ${String(err)}`)
    return err
  }
  assert.fail('request should have failed')
}

describe('response framing', () => {
  it('reads Content-Length bodies and reuses the connection', async () => {
    const s = await serve((sock, _h, i) => sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 6\r\nX-N: ${i}\r\n\r\nbody-${i}`))
    const t = transport()
    const a = await t.request({ url: s.url })
    const b = await t.request({ url: s.url })
    assert.equal(a.status, 200)
    assert.equal(a.statusText, 'OK')
    assert.equal(a.body.toString(), 'body-0')
    assert.equal(a.header('x-n'), '0')
    assert.equal(b.body.toString(), 'body-1')
    assert.equal(a.reused, false)
    assert.equal(b.reused, true)
    assert.equal(s.connections, 1)
  })

  it('decodes chunked bodies with extensions and trailers, even one byte per segment', async () => {
    const response = 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n' +
      '5;ext=1\r\nhello\r\n7\r\n, world\r\nA\r\n0123456789\r\n0\r\nX-Sum: 42\r\nX-Other: a\r\n\r\n'
    const s = await serve((sock) => { void dribble(sock, response) })
    const t = transport()
    const a = await t.request({ url: s.url })
    assert.equal(a.body.toString(), 'hello, world0123456789')
    assert.deepEqual(a.trailers, [['X-Sum', '42'], ['X-Other', 'a']])
    const b = await t.request({ url: s.url })
    assert.equal(b.body.toString(), 'hello, world0123456789')
    assert.equal(b.reused, true, 'connection reused after a chunked body read to the end')
  })

  it('takes the final coding: chunked wins over Content-Length, other codings read until close', async () => {
    const s = await serve((sock, _h, i) => {
      if (i === 0) sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 100\r\n\r\n3\r\nabc\r\n0\r\n\r\n')
      else sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\nuntil the end')
    })
    const t = transport()
    const a = await t.request({ url: s.url })
    assert.equal(a.body.toString(), 'abc')
    const b = await t.request({ url: s.url })
    assert.equal(b.body.toString(), 'until the end')
    assert.equal(b.reused, false, 'a response with both TE and CL must not leave the connection in use')
    assert.equal(t.stats.closed['server-close'], 1)
    assert.equal(t.stats.closed['read-until-close'], 1)
  })

  it('reads until close when there is no length, and does not reuse', async () => {
    const s = await serve((sock) => { sock.write('HTTP/1.1 200 OK\r\n\r\npart one, '); setTimeout(() => sock.end('part two'), 20) })
    const t = transport()
    const a = await t.request({ url: s.url })
    assert.equal(a.body.toString(), 'part one, part two')
    await t.request({ url: s.url })
    assert.equal(s.connections, 2)
    assert.equal(t.stats.closed['read-until-close'], 2)
  })

  it('HEAD, 204 and 304 have no body whatever their headers say; 1xx are skipped', async () => {
    const s = await serve((sock, head) => {
      const path = head.split(' ')[1]
      if (head.startsWith('HEAD')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n')
      else if (path === '/204') sock.write('HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n')
      else if (path === '/304') sock.write('HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n')
      else sock.write('HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
    })
    const t = transport()
    const head = await t.request({ url: s.url, method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)
    const r204 = await t.request({ url: `${s.url}204` })
    assert.equal(r204.status, 204)
    assert.equal(r204.body.length, 0)
    const r304 = await t.request({ url: `${s.url}304` })
    assert.equal(r304.status, 304)
    const r200 = await t.request({ url: `${s.url}early` })
    assert.equal(r200.status, 200)
    assert.equal(r200.body.toString(), 'ok')
    assert.equal(s.connections, 1, 'all on one connection: the framing never lost its place')
    assert.equal(r200.reused, true)
  })

  it('Expect: 100-continue sends the body after 100, and not at all after a final response', async () => {
    const bodies: string[] = []
    const s = await serve((sock, head) => {
      if (head.includes('/reject')) {
        sock.write('HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n')
        return
      }
      sock.write('HTTP/1.1 100 Continue\r\n\r\n')
      sock.once('data', (d) => {
        bodies.push(d.toString())
        sock.write(`HTTP/1.1 201 Created\r\nContent-Length: ${d.length}\r\n\r\n${d}`)
      })
    })
    const t = transport()
    const ok = await t.request({ url: `${s.url}up`, method: 'POST', headers: { Expect: '100-continue' }, body: 'payload' })
    assert.equal(ok.status, 201)
    assert.equal(ok.body.toString(), 'payload')
    assert.deepEqual(bodies, ['payload'])
    const rejected = await t.request({ url: `${s.url}reject`, method: 'POST', headers: { Expect: '100-continue' }, body: 'never sent' })
    assert.equal(rejected.status, 417)
    assert.equal(t.stats.bytesSent < 2 * 200 + 'payload'.length + 'never sent'.length, true)
    assert.equal(t.stats.closed.error, 1, 'connection not reused after the body was withheld')
  })

  it('Expect: 100-continue sends the body anyway when no 100 comes in time', async () => {
    const s = await serve((sock) => sock.once('data', (d) => sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${d.length}\r\n\r\n${d}`)))
    const t = transport({ expectContinueTimeout: 50 })
    const r = await t.request({ url: s.url, method: 'PUT', headers: { Expect: '100-continue' }, body: 'late body' })
    assert.equal(r.body.toString(), 'late body')
  })

  it('HTTP/1.0 responses close unless keep-alive; Connection: close closes', async () => {
    const s = await serve((sock, head) => {
      if (head.includes('/ka')) sock.write('HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nka')
      else if (head.includes('/close')) sock.write('HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 5\r\n\r\nclose')
      else sock.write('HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n1.0')
    })
    const t = transport()
    assert.equal((await t.request({ url: `${s.url}plain` })).httpVersion, '1.0')
    assert.equal((await t.request({ url: `${s.url}ka` })).reused, false)
    assert.equal((await t.request({ url: `${s.url}ka` })).reused, true)
    assert.equal((await t.request({ url: `${s.url}close` })).body.toString(), 'close')
    assert.equal((await t.request({ url: `${s.url}plain` })).reused, false)
    assert.equal(s.connections, 3, 'the keep-alive connection carried /ka twice and /close')
    assert.equal(t.stats.closed['server-close'], 3)
  })

  it('honours the Keep-Alive timeout hint: the idle connection is retired before the server would close it', async () => {
    const s = await serve((sock) => sock.write('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=1, max=100\r\nContent-Length: 0\r\n\r\n'))
    const t = transport()
    await t.request({ url: s.url })
    await new Promise((r) => setTimeout(r, 900))
    const r = await t.request({ url: s.url })
    assert.equal(r.reused, false)
    assert.equal(t.stats.closed['idle-timeout'], 1)
    assert.equal(s.connections, 2)
  })

  it('pipelines idempotent requests on one connection and matches responses in order', async () => {
    const segments: number[] = []
    const s = await serve((sock, _h, i, conn) => {
      if (conn.requests === 1) sock.once('data', () => {}) // keep the socket readable
      segments.push(i)
      setTimeout(() => sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${String(i).length}\r\n\r\n${i}`), 5)
    })
    const t = transport({ pipeline: 4, maxConnsPerHost: 1 })
    const results = await Promise.all([0, 1, 2, 3, 4, 5, 6, 7].map(() => t.request({ url: s.url })))
    assert.deepEqual(results.map((r) => r.body.toString()), ['0', '1', '2', '3', '4', '5', '6', '7'])
    assert.equal(s.connections, 1)
  })
})

describe('pipelined writes', () => {
  it('requests gathered while a batch is in flight leave together, as wrk sends them', async () => {
    // A raw server that counts the request heads in each read.
    const perRead: number[] = []
    const server = net.createServer((sock) => {
      sock.on('data', (d) => {
        const n = d.toString('latin1').split('\r\n\r\n').length - 1
        perRead.push(n)
        // Answers trickle back one by one, a few ms apart.
        for (let k = 0; k < n; k++) setTimeout(() => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx'), 3 * (k + 1))
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    const port = (server.address() as net.AddressInfo).port
    try {
      // The load generator: one connection, 4 deep, 40 requests.
      const r = await netkit(['http', `http://127.0.0.1:${port}/`, '-c', '1', '--pipeline', '4', '-n', '40', '--json'])
      assert.equal(r.code, 0, r.stderr)
      assert.equal(perRead.reduce((a, b) => a + b, 0), 40)
      // Without gathering, each answered request would be replaced at once by one written alone.
      assert.ok(perRead.length <= 11, `requests arrived in ${perRead.length} reads: ${perRead.join(',')}`)
    } finally {
      server.close()
    }
  })
})

describe('pipelined reads', { skip: process.platform === 'linux' ? false : 'SO_RCVLOWAT batching is Linux-only' }, () => {
  /** A server answering each pipelined batch response by response, in separate writes, as nginx does. */
  async function batchServer(body: (index: number) => string, pauseBefore = (_index: number) => 0): Promise<{ port: number; close(): void }> {
    const server = net.createServer((sock) => {
      let index = 0 // this connection's responses
      const sent = new Set<number>() // responses whose pause was taken
      sock.setNoDelay(true)
      let buf = ''
      sock.on('data', (d) => {
        buf += d.toString('latin1')
        const heads = buf.split('\r\n\r\n')
        buf = heads.pop()!
        // Each response its own segment, one event-loop turn apart: a reader that reads as soon
        // as anything is there takes them one or two at a time.
        const answers = heads.map(() => index++)
        const next = (): void => {
          const i = answers[0]
          if (i === undefined || sock.destroyed) return
          const pause = pauseBefore(i)
          if (pause > 0 && answers.length > 0 && !sent.has(i)) {
            sent.add(i)
            setTimeout(next, pause)
            return
          }
          answers.shift()
          const b = body(i)
          sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${b.length}\r\n\r\n${b}`)
          setImmediate(next)
        }
        next()
      })
    })
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
    return { port: (server.address() as net.AddressInfo).port, close: () => server.close() }
  }

  it('several responses of one size are read per wake-up (the report counts the reads)', async () => {
    const s = await batchServer(() => 'y'.repeat(100))
    try {
      const r = await netkit(['http', `http://127.0.0.1:${s.port}/`, '-c', '2', '--pipeline', '10', '-n', '4000', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const report = JSON.parse(r.stdout) as { ok: number; bytes: { reads: number } }
      assert.equal(report.ok, 4000)
      // Responses of 138 bytes and a wake-up mark of up to 512 bytes: at most 3 reads per batch
      // of 10 (4 + 4 + 2 responses) once the size is known. Reading whatever is there took about
      // 0.5 reads per response here; batched, about 0.2.
      assert.ok(report.bytes.reads <= 4000 * 0.35, `${report.bytes.reads} reads for 4000 responses`)
    } finally {
      s.close()
    }
  })

  it('responses that turn smaller in the middle of a batch (below the wake-up mark) never stall the run', async () => {
    // On each connection, 95 responses of 240 bytes, then of 39, the first small one 30 ms late:
    // by then the reader has taken the big ones and waits for 512 bytes, which the 5 small ones
    // still owed (195 bytes) never make, until the sweeper lowers the mark. Later, sizes change
    // every 7 responses.
    const s = await batchServer((i) => (i < 95 ? 'z'.repeat(200) : i < 500 ? 'z' : 'z'.repeat(i % 7 === 0 ? 150 : 3)), (i) => (i === 95 ? 30 : 0))
    try {
      const started = Date.now()
      const r = await netkit(['http', `http://127.0.0.1:${s.port}/`, '-c', '3', '--pipeline', '10', '-n', '3000', '--timeout', '3000', '--json'])
      assert.equal(r.code, 0, r.stderr)
      const report = JSON.parse(r.stdout) as { ok: number; errors: number; latencyUs: { max: number } }
      assert.equal(report.ok, 3000)
      assert.equal(report.errors, 0)
      // Far below the 3 s request timeout: an unmet mark is lowered within a sweeper tick.
      assert.ok(report.latencyUs.max < 1_000_000, `slowest response ${report.latencyUs.max} µs`)
      assert.ok(Date.now() - started < 8000, `took ${Date.now() - started} ms`)
    } finally {
      s.close()
    }
  })
})

describe('failures give a clear error kind and never hang', () => {
  it('garbage → parse', async () => {
    const s = await serve((sock) => sock.write('SSH-2.0-OpenSSH_9.0\r\n\r\n'))
    const err = await failure(transport().request({ url: s.url }))
    assert.equal(err.kind, 'parse')
    assert.match(err.message, /malformed status line/)
  })

  it('bad Content-Length and bad chunk sizes → parse', async () => {
    const s = await serve((sock, head) => {
      if (head.includes('/cl')) sock.write('HTTP/1.1 200 OK\r\nContent-Length: 12, 13\r\n\r\n')
      else sock.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n')
    })
    const t = transport()
    assert.equal((await failure(t.request({ url: `${s.url}cl` }))).kind, 'parse')
    assert.equal((await failure(t.request({ url: `${s.url}chunk` }))).kind, 'parse')
  })

  it('truncated head or body → truncated', async () => {
    const s = await serve((sock, head) => {
      if (head.includes('/head')) sock.end('HTTP/1.1 200 OK\r\nContent-Len')
      else if (head.includes('/chunk')) sock.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab')
      else sock.end('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly this')
    })
    const t = transport()
    assert.equal((await failure(t.request({ url: `${s.url}head` }))).kind, 'truncated')
    assert.equal((await failure(t.request({ url: `${s.url}body` }))).kind, 'truncated')
    assert.equal((await failure(t.request({ url: `${s.url}chunk` }))).kind, 'truncated')
  })

  it('reset → reset; close without a word on a fresh connection → closed, not retried', async () => {
    const s = await serve((sock, head) => {
      if (head.includes('/reset')) sock.resetAndDestroy()
      else sock.end()
    })
    const t = transport()
    assert.equal((await failure(t.request({ url: `${s.url}reset` }))).kind, 'reset')
    assert.equal((await failure(t.request({ url: `${s.url}silent` }))).kind, 'closed')
    assert.equal(t.stats.retried, 0, 'Go never retries on a fresh connection')
  })

  it('a server that never answers → header-timeout or timeout', async () => {
    const s = await serve(() => {})
    assert.equal((await failure(transport({ responseHeaderTimeout: 100 }).request({ url: s.url }))).kind, 'header-timeout')
    assert.equal((await failure(transport({ requestTimeout: 100 }).request({ url: s.url }))).kind, 'timeout')
    assert.equal((await failure(transport().request({ url: s.url, timeout: 100 }))).kind, 'timeout')
  })

  it('a body that stops coming → timeout', async () => {
    const s = await serve((sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'))
    assert.equal((await failure(transport({ requestTimeout: 100 }).request({ url: s.url }))).kind, 'timeout')
  })

  it('nobody listening → connect-refused', async () => {
    const port = await freePort()
    const t = transport()
    const err = await failure(t.request({ url: `http://127.0.0.1:${port}/` }))
    assert.equal(err.kind, 'connect-refused')
    assert.equal(t.stats.dials, 1)
    assert.equal(t.stats.dialFailures, 1)
  })
})
