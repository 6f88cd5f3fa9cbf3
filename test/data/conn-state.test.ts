/**
 * conn_state and history (Zeek's conn.log rules) on real handshakes: node:net sockets on
 * loopback, recorded by tcpdump, exported by netkit: a connection that completes and closes
 * (SF), one refused by a closed port (REJ), one reset by the client (RSTO) or by the server
 * (RSTR), one still open when the capture ends (S1), one the server half-closed (S3), and, in a
 * network namespace, SYNs nobody answers (S0).
 */
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import net from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { netkit, needs, tempDir } from '../helpers/cli.js'
import { freePort, isRoot, recordWithTcpdump } from '../helpers/servers.js'
import { captureSkip, createVethPair } from '../capture/netns.js'

const skip = !isRoot() ? 'needs root to capture on loopback' : needs('tcpdump', 'tshark')

interface Flow { orig_p: number; resp_p: number; conn_state: string; history: string; orig_bytes: number; resp_bytes: number }

async function flowsOf(file: string, dir: string): Promise<Flow[]> {
  const ds = join(dir, `ds-${Math.random().toString(36).slice(2)}`)
  const r = await netkit(['export', '-q', '-r', file, '-o', ds])
  assert.equal(r.code, 0, r.stderr)
  const { DuckDBInstance } = await import('@duckdb/node-api')
  const c = await (await DuckDBInstance.create(':memory:')).connect()
  try {
    const rows = (await c.runAndReadAll(`SELECT orig_p, resp_p, conn_state, history, orig_bytes::INTEGER AS orig_bytes, resp_bytes::INTEGER AS resp_bytes
      FROM read_parquet('${ds}/flows/**/*.parquet') WHERE proto = 'tcp'`)).getRowObjectsJS()
    return rows as unknown as Flow[]
  } finally {
    c.closeSync()
  }
}

function listen(onConn: (s: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer({ allowHalfOpen: true }, onConn)
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)))
}

const portOf = (s: net.Server) => (s.address() as net.AddressInfo).port

function connect(port: number, allowHalfOpen = false): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ port, host: '127.0.0.1', allowHalfOpen }, () => resolve(s))
    s.once('error', reject)
  })
}

test('conn_state and history of handshakes that succeed, are refused, reset, or stay open', { skip }, async () => {
  const { dir, cleanup } = tempDir()
  const open: net.Socket[] = []
  const servers: net.Server[] = []
  try {
    // SF: request, response, both sides close.
    const sf = await listen((s) => s.once('data', () => s.end('pong')))
    // RSTO: the client resets after sending; RSTR: the server resets once it has the request.
    const rsto = await listen((s) => { s.on('data', () => {}); s.on('error', () => {}) })
    const rstr = await listen((s) => { s.on('error', () => {}); s.once('data', () => s.resetAndDestroy()) })
    // S1: data both ways, left open. S3: the server half-closes, the client does not.
    const s1 = await listen((s) => { s.on('error', () => {}); s.once('data', () => s.write('pong')) })
    const s3 = await listen((s) => { s.on('error', () => {}); s.once('data', () => s.end('pong')) })
    servers.push(sf, rsto, rstr, s1, s3)
    const refused = await freePort() // nothing listens there
    const file = join(dir, 'handshakes.pcap')
    const ports = [portOf(sf), portOf(rsto), portOf(rstr), portOf(s1), portOf(s3), refused]
    await recordWithTcpdump(file, ports.map((p) => `tcp port ${p}`).join(' or '), async () => {
      const a = await connect(portOf(sf))
      a.write('ping')
      await new Promise((resolve) => a.on('close', resolve).resume())
      await assert.rejects(connect(refused), /ECONNREFUSED/)
      const b = await connect(portOf(rsto))
      b.write('ping')
      await sleep(50)
      b.resetAndDestroy()
      const c = await connect(portOf(rstr))
      c.on('error', () => {})
      c.write('ping')
      await new Promise((resolve) => c.on('close', resolve))
      const d = await connect(portOf(s1))
      d.on('error', () => {})
      d.write('ping')
      await new Promise((resolve) => d.once('data', resolve))
      const e = await connect(portOf(s3), true)
      e.on('error', () => {})
      e.write('ping')
      await new Promise((resolve) => e.on('end', resolve).resume())
      open.push(d, e)
      await sleep(100)
    })
    const flows = await flowsOf(file, dir)
    const by = (port: number) => {
      const f = flows.filter((x) => x.resp_p === port)
      assert.equal(f.length, 1, `one flow to port ${port}: ${JSON.stringify(flows)}`)
      return f[0]
    }
    const f = { sf: by(portOf(sf)), rej: by(refused), rsto: by(portOf(rsto)), rstr: by(portOf(rstr)), s1: by(portOf(s1)), s3: by(portOf(s3)) }
    assert.equal(f.sf.conn_state, 'SF')
    assert.match(f.sf.history, /^ShA/)
    for (const l of 'DdFf') assert.ok(f.sf.history.includes(l), `SF history ${f.sf.history} has ${l}`)
    assert.equal(f.sf.orig_bytes, 4)
    assert.equal(f.sf.resp_bytes, 4)
    assert.equal(f.rej.conn_state, 'REJ')
    assert.equal(f.rej.history, 'Sr')
    assert.equal(f.rsto.conn_state, 'RSTO')
    assert.match(f.rsto.history, /^ShAD.*R$/)
    assert.equal(f.rstr.conn_state, 'RSTR')
    assert.match(f.rstr.history, /^ShAD.*r$/)
    assert.equal(f.s1.conn_state, 'S1')
    assert.equal(f.s1.history, 'ShADad')
    assert.equal(f.s3.conn_state, 'S3')
    assert.match(f.s3.history, /^ShADad.*f/)
    assert.ok(!f.s3.history.includes('F'), f.s3.history)
  } finally {
    for (const s of open) s.destroy()
    for (const s of servers) s.close()
    cleanup()
  }
})

const nsSkip = skip || captureSkip()

test('SYNs that nobody answers are S0 (a veth pair in network namespaces)', { skip: nsSkip }, async () => {
  const { dir, cleanup } = tempDir()
  const pair = createVethPair()
  try {
    // An address on the link that nobody holds, with a neighbour entry so the SYNs go out.
    const silent = pair.addr.replace(/\.1$/, '.77')
    pair.exec(pair.ns, 'ip', ['neigh', 'add', silent, 'lladdr', '02:00:00:00:00:77', 'dev', pair.iface])
    const file = join(dir, 's0.pcap')
    const dump = spawn('ip', ['netns', 'exec', pair.ns, 'tcpdump', '-i', pair.iface, '-U', '-w', file, 'tcp'], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    dump.stderr!.on('data', (d) => { err += d })
    for (let i = 0; i < 100 && !err.includes('listening on'); i++) await sleep(50)
    // The SYN and its retransmission (after 1 s) go unanswered.
    const client = `const s=require('net').connect(80,'${silent}');s.on('error',()=>{});setTimeout(()=>process.exit(0),1400)`
    pair.exec(pair.ns, process.execPath, ['-e', client])
    await sleep(200)
    dump.kill('SIGINT')
    await new Promise((resolve) => dump.on('close', resolve))
    const flows = await flowsOf(file, dir)
    assert.equal(flows.length, 1, JSON.stringify(flows))
    assert.equal(flows[0].conn_state, 'S0')
    assert.equal(flows[0].history, 'S')
  } finally {
    pair.cleanup()
    cleanup()
  }
})
