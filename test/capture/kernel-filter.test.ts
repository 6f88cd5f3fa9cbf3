/**
 * A live capture with a filter expression: netkit compiles it (src/filter) for the interface's
 * link type, the kernel runs it (SO_ATTACH_FILTER), and only matching packets reach the file.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { tempDir, tsharkFields } from '../helpers/cli.js'
import { captureSkip, createVethPair, endCounts, startCapture } from './netns.js'

const skip = captureSkip()

test('capture with a `tcp port 80` filter records only those packets', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'port80.pcap')
  // Repeated words, as typed (`tcp port 80` spelled out both ways): the expression must reach
  // the compiler in the order given.
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, 'tcp', 'dst', 'port', '80', 'or', 'tcp', 'src', 'port', '80'])
  t.after(() => cap.child.kill('SIGKILL'))
  // From the peer: connection attempts to ports 80, 81 and 8080 (nothing listens: SYN, then RST
  // back), and UDP to port 80; ARP crosses too. Only TCP with port 80 may be recorded.
  pair.exec(pair.peerNs, process.execPath, ['-e', `
    const net = require('node:net'), dgram = require('node:dgram')
    const tryPort = (p) => new Promise((ok) => { const s = net.connect(p, '${pair.addr}'); s.on('error', ok); s.on('connect', () => { s.destroy(); ok() }) })
    ;(async () => {
      for (let i = 0; i < 5; i++) for (const p of [80, 81, 8080]) await tryPort(p)
      const u = dgram.createSocket('udp4'); u.send('x', 80, '${pair.addr}', () => u.close())
    })()`])
  await sleep(200)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  const rows = tsharkFields(file, ['ip.proto', 'tcp.srcport', 'tcp.dstport']).trim().split('\n').filter(Boolean)
  assert.ok(rows.length >= 10, `only ${rows.length} packets recorded`)
  for (const row of rows) {
    const [proto, sport, dport] = row.split('\t')
    assert.ok(proto === '6' && (sport === '80' || dport === '80'), `recorded a packet the filter excludes: ${row}`)
  }
  assert.equal(endCounts(cap.stderr()).captured, rows.length)
})
