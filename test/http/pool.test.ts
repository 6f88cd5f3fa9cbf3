/**
 * Pool semantics of the Transport, as Go's net/http Transport: MRU idle first, hand-off to
 * waiters, per-host and total idle limits, per-host connection limit with queueing, dead idle
 * connections dropped at once, idle timeout, reuse only after a fully read body, Go's retry rules.
 */
import assert from 'node:assert/strict'
import { after, describe, it } from 'node:test'
import { HttpError } from '../../src/errors.js'
import { Exchange } from '../../src/http/exchange.js'
import { Transport } from '../../src/http/transport.js'
import { rawServer, type TestServer } from './servers.js'

const servers: TestServer[] = []
const transports: Transport[] = []
after(async () => {
  for (const t of transports) t.close()
  for (const s of servers) await s.close()
})

/** A server whose response body names the connection (0, 1, ...) and its request number on it. */
async function namingServer(delay: (conn: number) => number = () => 0): Promise<TestServer> {
  const s = await rawServer((sock, _head, _i, conn) => {
    const body = `${conn.index}/${conn.requests}`
    setTimeout(() => sock.write(`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n${body}`), delay(conn.index))
  })
  servers.push(s)
  return s
}

function transport(options: ConstructorParameters<typeof Transport>[0] = {}): Transport {
  const t = new Transport(options)
  transports.push(t)
  return t
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const connOf = (body: Buffer) => body.toString().split('/')[0]

describe('connection pool', () => {
  it('takes the most recently used idle connection first', async () => {
    const s = await namingServer((conn) => (conn === 0 ? 0 : 40))
    const t = transport()
    const [a, b] = await Promise.all([t.request({ url: s.url }), t.request({ url: s.url })])
    assert.deepEqual([connOf(a.body), connOf(b.body)].sort(), ['0', '1'])
    // Connection 0 went idle first, connection 1 forty ms later: 1 is the most recent.
    const c = await t.request({ url: s.url })
    assert.equal(connOf(c.body), '1')
    assert.equal(c.reused, true)
  })

  it('hands a returned connection to a waiting request (maxConnsPerHost queues the rest)', async () => {
    const s = await namingServer()
    const t = transport({ maxConnsPerHost: 1 })
    const results = await Promise.all(Array.from({ length: 5 }, () => t.request({ url: s.url })))
    assert.deepEqual(results.map((r) => r.body.toString()), ['0/1', '0/2', '0/3', '0/4', '0/5'])
    assert.equal(t.stats.dials, 1)
    assert.equal(s.connections, 1)
  })

  it('keeps at most maxIdleConnsPerHost idle connections', async () => {
    const s = await namingServer()
    const t = transport({ maxIdleConnsPerHost: 2 })
    await Promise.all(Array.from({ length: 5 }, () => t.request({ url: s.url })))
    assert.equal(t.stats.dials, 5)
    assert.equal(t.stats.closed['idle-pool-full'], 3)
    assert.equal(t.connCounts(t.prepare({ url: s.url }).target).idle, 2)
  })

  it('evicts the oldest idle connection beyond maxIdleConns, across hosts', async () => {
    const s1 = await namingServer()
    const s2 = await namingServer()
    const t = transport({ maxIdleConns: 1 })
    await t.request({ url: s1.url })
    await t.request({ url: s2.url })
    assert.equal(t.stats.closed['idle-evicted'], 1)
    const again = await t.request({ url: s1.url })
    assert.equal(again.reused, false)
    assert.equal(s1.connections, 2)
    const same = await t.request({ url: s2.url })
    assert.equal(same.reused, false, 's2 was evicted in turn when s1 parked')
  })

  it('notices a server closing an idle connection at once and drops it', async () => {
    const s = await rawServer((sock) => {
      sock.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok')
      setTimeout(() => sock.end(), 30)
    })
    servers.push(s)
    const t = transport()
    await t.request({ url: s.url })
    await sleep(120)
    assert.equal(t.stats.closed['server-closed-idle'], 1, 'dropped without any request touching it')
    const r = await t.request({ url: s.url })
    assert.equal(r.reused, false)
    assert.equal(t.stats.retried, 0)
  })

  it('closes connections idle longer than idleConnTimeout', async () => {
    const s = await namingServer()
    const t = transport({ idleConnTimeout: 50 })
    await t.request({ url: s.url })
    await sleep(250)
    assert.equal(t.stats.closed['idle-timeout'], 1)
  })

  it('reuses a connection only when its body was read to the end', async () => {
    const s = await rawServer((sock) => sock.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789'))
    servers.push(s)
    const t = transport()
    const spec = t.prepare({ url: s.url })
    await new Promise<void>((resolve, reject) => {
      const ex = new Exchange(spec, {
        onResponseHead: () => { t.cancel(ex); resolve() },
        onResponseComplete: () => reject(new Error('should have been cancelled')),
        onError: (_e, err) => reject(err),
      })
      t.dispatch(ex)
    })
    const r = await t.request({ url: s.url })
    assert.equal(r.reused, false)
    assert.equal(s.connections, 2)
    assert.equal(t.stats.closed.error, 1)
  })

  it('disableKeepAlives: Connection: close on every request, one connection each', async () => {
    const heads: string[] = []
    const s = await rawServer((sock, head) => { heads.push(head); sock.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n') })
    servers.push(s)
    const t = transport({ disableKeepAlives: true })
    for (let i = 0; i < 3; i++) await t.request({ url: s.url })
    assert.equal(s.connections, 3)
    assert.ok(heads.every((h) => /\r\nConnection: close\r\n/.test(h)))
    assert.equal(t.stats.closed['keepalive-disabled'], 3)
  })
})

describe('retries (Go shouldRetryRequest)', () => {
  /** Answers the first request of each connection; closes on the second without a word. */
  async function closesSecond(): Promise<TestServer> {
    const s = await rawServer((sock, _h, _i, conn) => {
      if (conn.requests === 2) sock.destroy()
      else sock.write(`HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n${conn.index}`)
    })
    servers.push(s)
    return s
  }

  it('retries an idempotent request that got no response byte on a reused connection', async () => {
    const s = await closesSecond()
    const t = transport()
    await t.request({ url: s.url })
    const r = await t.request({ url: s.url })
    assert.equal(r.status, 200)
    assert.equal(r.attempts, 2)
    assert.equal(t.stats.retried, 1)
    assert.equal(s.connections, 2)
  })

  it('does not retry a POST', async () => {
    const s = await closesSecond()
    const t = transport()
    await t.request({ url: s.url, method: 'POST', body: 'x' })
    await assert.rejects(t.request({ url: s.url, method: 'POST', body: 'y' }), (err: HttpError) => err.kind === 'closed' || err.kind === 'reset')
    assert.equal(t.stats.retried, 0)
  })

  it('retries a POST with an Idempotency-Key (Go isReplayable)', async () => {
    const s = await closesSecond()
    const t = transport()
    await t.request({ url: s.url })
    const r = await t.request({ url: s.url, method: 'POST', body: 'x', headers: { 'Idempotency-Key': 'k1' } })
    assert.equal(r.attempts, 2)
  })
})
