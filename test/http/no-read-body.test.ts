/**
 * `netkit http --no-read-body`: a client that never reads response bodies. As with Go's
 * Transport, a connection whose body was left unread is closed, not reused: the server counts a
 * connection per request, against a handful with bodies read; a response without a body
 * (204) leaves nothing unread, so its connection is reused.
 */
import assert from 'node:assert/strict'
import { createServer, type Server } from 'node:http'
import { after, before, test } from 'node:test'
import { netkit } from '../helpers/cli.js'

let server: Server
let port = 0
let connections = 0

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/empty') { res.statusCode = 204; res.end(); return }
    res.end('x'.repeat(20_000))
  })
  server.on('connection', () => { connections++ })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  port = (server.address() as { port: number }).port
})
after(() => { server.close() })

interface Report { ok: number; connectionStats: { dialed: number; reused: number; closed: Record<string, number> } }

async function load(path: string, extra: string[]): Promise<{ rep: Report; seen: number }> {
  const before = connections
  const r = await netkit(['http', `http://127.0.0.1:${port}${path}`, '-c', '4', '-n', '100', '--json', ...extra], { timeoutMs: 30_000 })
  assert.equal(r.code, 0, r.stderr)
  return { rep: JSON.parse(r.stdout) as Report, seen: connections - before }
}

test('unread bodies cost a connection per request; read ones are reused', async () => {
  const read = await load('/', [])
  assert.equal(read.rep.ok, 100)
  assert.ok(read.seen <= 4, `bodies read: at most 4 connections (${read.seen})`)
  const unread = await load('/', ['--no-read-body'])
  assert.equal(unread.rep.ok, 100)
  assert.equal(unread.seen, 100, 'the server saw a new connection for every request')
  assert.equal(unread.rep.connectionStats.dialed, 100)
  assert.equal(unread.rep.connectionStats.closed['body-not-read'], 100)
  assert.equal(unread.rep.connectionStats.reused, 0)
})

test('a response with no body leaves nothing unread: its connection is reused', async () => {
  const r = await load('/empty', ['--no-read-body'])
  assert.equal(r.rep.ok, 100)
  assert.ok(r.seen <= 4, `at most 4 connections (${r.seen})`)
  assert.equal(r.rep.connectionStats.closed['body-not-read'] ?? 0, 0)
})
