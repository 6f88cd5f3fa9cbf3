/**
 * `netkit http https://...` against nginx with TLS on loopback (a certificate the test makes):
 * keep-alive over TLS as the server counts connections, the run's capture decrypted by tshark
 * with no key file (the secrets are in the pcapng), the NSS key log, session resumption on
 * re-dials, pipelining and a connection per request over TLS, and each kind of TLS failure (untrusted certificate, wrong name, TLS to a plain
 * port, plain HTTP to a TLS port) reported by kind with exit 1, without hanging.
 */
import assert from 'node:assert/strict'
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { createServer } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, test } from 'node:test'
import { have, netkit, root } from '../helpers/cli.js'
import { freePort, waitForPort } from '../helpers/servers.js'
import { makeCertificate, tlsSkip } from '../helpers/tls-server.js'
import { startNginx, type NginxServer } from '../http/servers.js'

const captureSkip = process.platform !== 'linux' ? 'capture needs Linux'
  : process.getuid?.() !== 0 ? 'needs root to capture on lo'
    : !existsSync(join(root, 'native', 'build', 'Release', 'netkit_capture.node')) ? 'the capture addon is not built'
      : !have('tshark') ? 'needs tshark' : false

interface Report { ok: number; errors: number; errorKinds: Record<string, number>; tls?: { handshakes: number; resumed: number; versions: Record<string, number> }; connectionStats: { dialed: number; reused: number }; wire?: { syns: number } }

describe('netkit http over TLS', { skip: tlsSkip() }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'netkit-https-'))
  let cert: { key: string; cert: string }
  let port = 0
  let nginx: NginxServer
  /** Distinct connections that carried a request, as nginx logged them. */
  const connections = async (): Promise<number> => (await nginx.counts()).withRequests

  before(async () => {
    cert = makeCertificate(join(dir, 'pki'))
    nginx = await startNginx({ tls: cert })
    port = nginx.tlsPort!
  })
  after(async () => {
    await nginx?.stop()
    rmSync(dir, { recursive: true, force: true })
  })

  test('200 requests on 4 kept-alive connections; the capture decrypts in tshark with no key file', { skip: captureSkip, timeout: 90_000 }, async () => {
    const before = await connections()
    const file = join(dir, 'run.pcapng')
    const keylog = join(dir, 'keys.log')
    const r = await netkit(['http', `https://127.0.0.1:${port}/`, '-c', '4', '-n', '200', '--max-idle-per-host', '4', '--insecure', '--capture', 'lo', '-w', file, '--keylog', keylog, '--json'], { timeoutMs: 60_000 })
    assert.equal(r.code, 0, r.stderr)
    const rep = JSON.parse(r.stdout) as Report
    assert.equal(rep.ok, 200)
    assert.equal(await connections() - before, 4, 'the server saw 4 connections')
    assert.equal(rep.tls?.handshakes, 4)
    assert.equal(rep.wire?.syns, 4)
    // tshark reads the secrets from the file itself (a Decryption Secrets Block).
    const requests = spawnSync('tshark', ['-n', '-r', file, '-Y', 'http.request'], { encoding: 'utf8' })
    assert.equal(requests.stdout.trim().split('\n').filter(Boolean).length, 200, requests.stderr)
    // The key log is SSLKEYLOGFILE's format: one secret per line, named, client random, secret.
    const lines = readFileSync(keylog, 'utf8').trim().split('\n')
    assert.ok(lines.length >= 4)
    for (const l of lines) assert.match(l, /^[A-Z_0-9]+ [0-9a-f]{64} [0-9a-f]+$/)
    // netkit read keeps the secrets when it rewrites pcapng: tshark still decrypts the copy.
    const copy = join(dir, 'copy.pcapng')
    const rw = await netkit(['read', '-r', file, '-w', copy, '-F', 'pcapng'])
    assert.equal(rw.code, 0, rw.stderr)
    const again = spawnSync('tshark', ['-n', '-r', copy, '-Y', 'http.request'], { encoding: 'utf8' })
    assert.equal(again.stdout.trim().split('\n').filter(Boolean).length, 200)
  })

  test('re-dialled connections resume the TLS session', { timeout: 60_000 }, async () => {
    const r = await netkit(['http', `https://127.0.0.1:${port}/`, '-c', '4', '-n', '100', '--think', '5', '--max-idle-per-host', '1', '--insecure', '--json'], { timeoutMs: 50_000 })
    assert.equal(r.code, 0, r.stderr)
    const rep = JSON.parse(r.stdout) as Report
    assert.equal(rep.ok, 100)
    assert.ok(rep.tls!.handshakes > 4, `connections were re-dialled (${rep.tls!.handshakes} handshakes)`)
    assert.ok(rep.tls!.resumed > 0, 'a re-dial resumed a session')
    assert.ok(rep.tls!.resumed < rep.tls!.handshakes, 'the first handshake is a full one')
  })

  test('pipelined requests over TLS: every response read, on the connections asked for', { timeout: 60_000 }, async () => {
    const before = await nginx.counts()
    const r = await netkit(['http', `https://127.0.0.1:${port}/`, '-c', '2', '--pipeline', '8', '-n', '400', '--insecure', '--json'], { timeoutMs: 50_000 })
    assert.equal(r.code, 0, r.stderr)
    const rep = JSON.parse(r.stdout) as Report
    assert.equal(rep.ok, 400)
    assert.equal(rep.errors, 0)
    const now = await nginx.counts()
    assert.equal(now.requests - before.requests, 400, 'nginx answered each request once')
    assert.equal(now.withRequests - before.withRequests, 2, 'on two connections')
  })

  test('a connection per request (--no-keepalive): each one a handshake, resumed after the first ones', { timeout: 60_000 }, async () => {
    const before = await nginx.counts()
    const r = await netkit(['http', `https://127.0.0.1:${port}/`, '-c', '2', '-n', '40', '--no-keepalive', '--insecure', '--json'], { timeoutMs: 50_000 })
    assert.equal(r.code, 0, r.stderr)
    const rep = JSON.parse(r.stdout) as Report
    assert.equal(rep.ok, 40)
    assert.equal(rep.tls!.handshakes, 40)
    assert.equal((await nginx.counts()).withRequests - before.withRequests, 40, 'nginx saw 40 connections')
    // The first two dials run together with no session yet; the server's ticket comes before
    // its response, so every later dial has one to offer.
    assert.ok(rep.tls!.resumed >= 38, `${rep.tls!.resumed} of 40 handshakes resumed`)
  })

  test('an untrusted certificate fails by kind; --cacert trusts it; a wrong --servername fails by kind', { timeout: 60_000 }, async () => {
    const url = `https://127.0.0.1:${port}/`
    const untrusted = await netkit(['http', url, '-c', '1', '-n', '3', '--json'], { timeoutMs: 30_000 })
    assert.equal(untrusted.code, 1)
    assert.deepEqual(Object.keys((JSON.parse(untrusted.stdout) as Report).errorKinds), ['tls-certificate'])
    assert.match(untrusted.stderr, /^netkit http: all 3 requests failed \(tls-certificate: 3\)\n$/)
    const trusted = await netkit(['http', url, '-c', '1', '-n', '3', '--cacert', cert.cert, '--servername', 'netkit.test', '--json'], { timeoutMs: 30_000 })
    assert.equal(trusted.code, 0, trusted.stderr)
    const wrong = await netkit(['http', url, '-c', '1', '-n', '3', '--cacert', cert.cert, '--servername', 'other.test', '--json'], { timeoutMs: 30_000 })
    assert.equal(wrong.code, 1)
    assert.deepEqual(Object.keys((JSON.parse(wrong.stdout) as Report).errorKinds), ['tls-hostname'])
  })

  test('TLS to a plain port, and plain HTTP to a TLS port, fail by kind and end', { timeout: 60_000 }, async () => {
    const plain = createServer((_q, s) => s.end('plain')).listen(0, '127.0.0.1')
    await new Promise((r) => plain.once('listening', r))
    const plainPort = (plain.address() as { port: number }).port
    try {
      const r = await netkit(['http', `https://127.0.0.1:${plainPort}/`, '-c', '1', '-n', '3', '--insecure', '--json'], { timeoutMs: 30_000 })
      assert.equal(r.code, 1)
      assert.deepEqual(Object.keys((JSON.parse(r.stdout) as Report).errorKinds), ['tls-handshake'])
    } finally {
      plain.close()
    }
    // A TLS server that is not HTTP-aware answers plain bytes with a TLS alert, not HTTP
    // (nginx instead answers 400 "plain HTTP request was sent to HTTPS port", a real response).
    if (!have('openssl')) return
    const sPort = await freePort()
    const server: ChildProcess = spawn('openssl', ['s_server', '-quiet', '-accept', `127.0.0.1:${sPort}`, '-cert', cert.cert, '-key', cert.key], { stdio: ['pipe', 'ignore', 'ignore'] })
    try {
      await waitForPort(sPort)
      const r = await netkit(['http', `http://127.0.0.1:${sPort}/`, '-c', '1', '-n', '1', '--timeout', '5000', '--json'], { timeoutMs: 30_000 })
      assert.equal(r.code, 1)
      const kinds = Object.keys((JSON.parse(r.stdout) as Report).errorKinds)
      assert.equal(kinds.length, 1)
      assert.ok(['parse', 'closed', 'reset'].includes(kinds[0]), `a clear kind, not a hang (${kinds[0]})`)
    } finally {
      server.kill('SIGKILL')
    }
  })
})
