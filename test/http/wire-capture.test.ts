/**
 * `netkit http --capture IFACE [-w FILE]`: the run captures its own traffic and reports the SYNs
 * seen on the wire beside the transport's dials. Real captures in namespaces the tests create
 * (a veth pair, and a namespace's own loopback), a node:http server that counts the connections
 * it accepts, and tshark as the oracle for the files. The SYN counter itself is checked on frames
 * made by hand (retransmissions, SYN-ACKs, other ports, VLAN tags).
 */
import assert from 'node:assert/strict'
import type { ChildProcess } from 'node:child_process'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { RecordBatch } from '../../src/pcap/record-batch.js'
import { LinkType } from '../../src/pcap/link-types.js'
import { SynCounter } from '../../src/http/wire-capture.js'
import { have, netkit, root, run, tempDir } from '../helpers/cli.js'
import { A, B, F, tcpFrame } from '../helpers/tcp-frames.js'
import { captureSkip, createVethPair, type VethPair } from '../capture/netns.js'

const skip = captureSkip()

interface WireReport {
  requests: number
  ok: number
  connectionStats: { dialed: number; retried: number }
  wire: { interface: string; filter: string; syns: number; synRetransmits: number; packets: number; dropped: number; file?: string }
}

/** A node:http server in `ns` that counts the connections and requests it takes. */
async function countingServer(pair: VethPair, ns: string, host: string): Promise<{ stop(): Promise<{ connections: number; requests: number }> }> {
  const child: ChildProcess = pair.spawn(ns, process.execPath, ['-e', `
    const http = require('node:http')
    let connections = 0, requests = 0
    const s = http.createServer((q, r) => { requests++; r.end('hello over the wire\\n') })
    s.on('connection', () => connections++)
    s.listen(8080, '${host}', () => process.stdout.write('ready\\n'))
    process.on('SIGTERM', () => { process.stdout.write(JSON.stringify({ connections, requests }) + '\\n'); process.exit(0) })
  `])
  let out = ''
  child.stdout!.on('data', (d) => { out += d })
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('server did not start')), 10_000)
    child.stdout!.on('data', () => { if (out.includes('ready')) { clearTimeout(timer); resolve() } })
  })
  return {
    async stop() {
      const closed = new Promise((r) => child.on('close', r))
      child.kill('SIGTERM')
      await closed
      return JSON.parse(out.split('\n').find((l) => l.startsWith('{'))!) as { connections: number; requests: number }
    },
  }
}

async function loadIn(ns: string, url: string, args: string[]): Promise<WireReport> {
  const r = await run('ip', ['netns', 'exec', ns, process.execPath, join(root, 'bin', 'run.js'), 'http', url, '--json', ...args])
  assert.equal(r.code, 0, `netkit http ${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout) as WireReport
}

describe('netkit http --capture', { skip }, () => {
  it('over a veth pair: SYNs seen = dials = connections the server accepted, and the -w file agrees with tshark', async (t) => {
    const pair = createVethPair()
    const tmp = tempDir()
    t.after(() => { pair.cleanup(); tmp.cleanup() })
    const server = await countingServer(pair, pair.peerNs, pair.peerAddr)
    const url = `http://${pair.peerAddr}:8080/`
    const file = join(tmp.dir, 'run.pcap')
    const pooled = await loadIn(pair.ns, url, ['-c', '10', '-n', '100', '--capture', pair.iface, '-w', file])
    const churn = await loadIn(pair.ns, url, ['-c', '10', '-n', '100', '--think', '2', '--max-idle-per-host', '2', '--capture', pair.iface])
    const counts = await server.stop()
    assert.equal(pooled.ok, 100)
    assert.equal(pooled.connectionStats.dialed, 10)
    assert.equal(pooled.wire.syns, 10, 'one SYN per pooled connection')
    assert.equal(pooled.wire.synRetransmits, 0)
    assert.equal(pooled.wire.dropped, 0)
    assert.equal(pooled.wire.interface, pair.iface)
    assert.equal(pooled.wire.filter, `tcp port 8080 and (host ${pair.peerAddr})`)
    assert.equal(churn.ok, 100)
    assert.ok(churn.wire.syns > 10, `with --think 2 and 2 idle kept, more connections: ${churn.wire.syns}`)
    assert.equal(churn.wire.syns, churn.connectionStats.dialed)
    assert.equal(pooled.wire.syns + churn.wire.syns, counts.connections, 'SYNs on the wire = connections the server accepted')

    // The file: every packet the report counted, the same SYNs by tshark's reading.
    const lines = (await run('tshark', ['-n', '-r', file, '-T', 'fields', '-e', 'tcp.flags.syn', '-e', 'tcp.flags.ack', '-e', 'tcp.dstport'])).stdout.trim().split('\n')
    assert.equal(lines.length, pooled.wire.packets)
    const syns = lines.filter((l) => /^(1|True)\t(0|False)\t8080$/.test(l)).length
    assert.equal(syns, 10)
    // 100 requests and 100 responses at least, and the handshakes and closes of 10 connections.
    assert.ok(lines.length >= 200 + 10 * 3, `${lines.length} packets`)
    const info = (await run('capinfos', ['-t', '-E', file])).stdout
    assert.match(info, /File type:\s+Wireshark\/tcpdump\/\.\.\. - pcap/)
    assert.match(info, /Ethernet/)
  })

  it("on a namespace's loopback with --no-keepalive: one SYN per request; with -i any as well", async (t) => {
    const pair = createVethPair()
    t.after(() => pair.cleanup())
    const server = await countingServer(pair, pair.ns, '127.0.0.1')
    const url = 'http://127.0.0.1:8080/'
    const lo = await loadIn(pair.ns, url, ['-c', '5', '-n', '50', '--no-keepalive', '--capture', 'lo'])
    const any = await loadIn(pair.ns, url, ['-c', '5', '-n', '30', '--no-keepalive', '--capture', 'any'])
    const counts = await server.stop()
    assert.equal(lo.connectionStats.dialed, 50)
    assert.equal(lo.wire.syns, 50, 'loopback: each packet counted once, not once per direction')
    assert.equal(any.connectionStats.dialed, 30)
    assert.equal(any.wire.syns, 30, 'any (LINUX_SLL2 headers)')
    assert.equal(counts.connections, 80)
    assert.equal(lo.wire.file, undefined)
  })

  it('needs a capture permission: exit 3 and one line for a user without it', { skip: skip || (!have('setpriv') && 'needs setpriv (util-linux)') }, async (t) => {
    const pair = createVethPair()
    t.after(() => pair.cleanup())
    const r = await run('ip', ['netns', 'exec', pair.ns, 'setpriv', '--reuid', '65534', '--regid', '65534', '--clear-groups', '--inh-caps=-all',
      process.execPath, join(root, 'bin', 'run.js'), 'http', 'http://127.0.0.1:8080/', '-n', '1', '--capture', 'lo'], { env: { ...process.env, HOME: '/tmp' } })
    assert.equal(r.code, 3, r.stderr)
    assert.match(r.stderr, /^netkit http: no permission to capture on lo/m)
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace')
  })

  it('an unknown interface is one error line, before any request is sent', async (t) => {
    const pair = createVethPair()
    t.after(() => pair.cleanup())
    const r = await run('ip', ['netns', 'exec', pair.ns, process.execPath, join(root, 'bin', 'run.js'), 'http', 'http://127.0.0.1:9/', '-n', '1', '--capture', 'nosuch0'])
    assert.notEqual(r.code, 0)
    assert.equal(r.stderr.trim(), 'netkit http: no such interface: nosuch0 (netkit interfaces lists them)')
    assert.equal(r.stdout, '')
  })
})

describe('netkit http -w without --capture', () => {
  it('is a usage error (exit 2)', async () => {
    const r = await netkit(['http', 'http://127.0.0.1:9/', '-n', '1', '-w', '/tmp/never.pcap'])
    assert.equal(r.code, 2)
    assert.match(r.stderr, /--capture/)
  })
})

describe('SynCounter', () => {
  function batchOf(frames: Buffer[], linkType: number = LinkType.EN10MB): RecordBatch {
    const b = new RecordBatch(frames.length)
    b.data = Buffer.concat(frames)
    let at = 0
    frames.forEach((f, i) => {
      b.offset[i] = at
      b.capLen[i] = f.length
      b.origLen[i] = f.length
      b.linkType[i] = linkType
      at += f.length
    })
    b.count = frames.length
    return b
  }

  it('counts attempts to the target: not SYN-ACKs, not other ports or hosts, retransmissions apart', () => {
    const c = new SynCounter(['10.0.0.2'], 8080)
    c.count(batchOf([
      tcpFrame(A, B, 40000, 8080, 1000, 0, F.SYN),
      tcpFrame(A, B, 40000, 8080, 1000, 0, F.SYN), // retransmitted
      tcpFrame(B, A, 8080, 40000, 5000, 1001, F.SA),
      tcpFrame(A, B, 40000, 8080, 1001, 5001, F.ACK),
      tcpFrame(A, B, 40001, 8080, 7000, 0, F.SYN),
      tcpFrame(A, B, 40002, 9090, 7000, 0, F.SYN), // another port
      tcpFrame(B, A, 40003, 8080, 7000, 0, F.SYN), // to another host
      tcpFrame(A, B, 40000, 8080, 9000, 0, F.SYN), // the port used again by a new connection
    ]))
    assert.equal(c.syns, 3)
    assert.equal(c.retransmits, 1)
  })

  it('reads through VLAN tags, and stops at truncated headers', () => {
    const c = new SynCounter(['10.0.0.2'], 8080)
    const plain = tcpFrame(A, B, 41000, 8080, 1, 0, F.SYN)
    const tagged = Buffer.concat([plain.subarray(0, 12), Buffer.from([0x81, 0x00, 0x00, 0x07]), plain.subarray(12)])
    const cut = tcpFrame(A, B, 41001, 8080, 1, 0, F.SYN).subarray(0, 40)
    c.count(batchOf([tagged, cut]))
    assert.equal(c.syns, 1)
  })

  it('reads IPv4 without a link header (LINKTYPE_RAW)', () => {
    const c = new SynCounter(['10.0.0.2'], 8080)
    c.count(batchOf([tcpFrame(A, B, 42000, 8080, 1, 0, F.SYN).subarray(14)], LinkType.RAW))
    assert.equal(c.syns, 1)
  })
})
