/**
 * A live capture with a filter expression: netkit compiles it (src/filter) for the interface's
 * link type, the kernel runs it (SO_ATTACH_FILTER), and only matching packets reach the file.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { have, tempDir, tsharkFields } from '../helpers/cli.js'
import { cookedProgram } from '../../src/capture/cooked-filter.js'
import { compileFilter } from '../../src/filter/index.js'
import { SKF_AD_OFF, SkfAd } from '../../src/filter/bpf.js'
import { LinkType } from '../../src/pcap/link-types.js'
import { captureSkip, createVethPair, endCounts, startCapture, startTcpdumpIn } from './netns.js'

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

test('-i any with a filter: the program is moved to the cooked socket and keeps what tcpdump -i any keeps', { skip: skip || (!have('tcpdump') && 'needs tcpdump') }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const ours = join(tmp.dir, 'netkit-any.pcap')
  const theirs = join(tmp.dir, 'tcpdump-any.pcap')
  // `inbound` reads the SLL2 packet type, `tcp port` the IP and TCP headers behind the SLL2 header.
  const filter = ['inbound', 'and', 'tcp', 'port', '8080']
  const tcpdump = await startTcpdumpIn(pair, pair.ns, 'any', theirs, filter)
  t.after(() => tcpdump.child.kill('SIGKILL'))
  const cap = await startCapture(pair, ['-i', 'any', '-w', ours, ...filter])
  t.after(() => cap.child.kill('SIGKILL'))
  // Traffic on the namespace's loopback (port 8080, which the filter keeps, and 8081, which it
  // drops) and across the veth pair to the peer (nothing listens there: SYN, then RST).
  pair.exec(pair.ns, process.execPath, ['-e', `
    const http = require('node:http'), net = require('node:net')
    const get = (port) => new Promise((ok) => http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (r) => { r.resume(); r.on('end', ok) }))
    const a = http.createServer((q, r) => r.end('kept')).listen(8080, '127.0.0.1')
    const b = http.createServer((q, r) => r.end('dropped')).listen(8081, '127.0.0.1')
    ;(async () => {
      for (let i = 0; i < 3; i++) { await get(8080); await get(8081) }
      await new Promise((ok) => { const s = net.connect(8080, '${pair.peerAddr}'); s.on('error', ok); s.on('connect', () => { s.destroy(); ok() }) })
      a.close(); b.close()
    })()`])
  await sleep(300)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  await tcpdump.stop()
  const fields = ['sll.pkttype', 'sll.ifindex', 'ip.src', 'tcp.srcport', 'tcp.dstport', 'tcp.flags', 'tcp.len']
  const a = tsharkFields(ours, fields).trim().split('\n')
  const b = tsharkFields(theirs, fields).trim().split('\n')
  assert.ok(b.length >= 3 * 8, `tcpdump kept ${b.length} packets`)
  assert.deepEqual(a, b)
  for (const row of a) assert.match(row, /^0\t\d+\t[\d.]+\t(8080\t\d+|\d+\t8080)\t/, `a packet the filter drops: ${row}`)
})

test('a cooked program: header fields become ancillary loads, packet loads move back 20 bytes, other header bytes are refused', () => {
  const program = compileFilter('inbound and tcp port 8080', { linkType: LinkType.LINUX_SLL2, live: true, snaplen: 128 }).program
  const cooked = cookedProgram(program)
  assert.deepEqual(cooked[0], { ...program[0], k: SKF_AD_OFF + SkfAd.PKTTYPE }) // ldb [10]
  assert.ok(cooked.some((insn, i) => program[i].k === 0 && insn.k === SKF_AD_OFF + SkfAd.PROTOCOL), 'ldh [0] reads the protocol')
  for (let i = 0; i < program.length; i++) {
    const mode = program[i].code & 0xe0
    if ((program[i].code & 0x07) <= 1 && (mode === 0x20 || mode === 0x40 || mode === 0xa0) && program[i].k >= 20) assert.equal(cooked[i].k, program[i].k - 20)
    if ((program[i].code & 0x07) === 0x06 && program[i].k > 0) assert.equal(cooked[i].k, 108, 'snap length without the header')
  }
  assert.throws(() => cookedProgram([{ code: 0x28, jt: 0, jf: 0, k: 2 }, { code: 0x06, jt: 0, jf: 0, k: 0 }]), /byte 2 of the cooked/)
})
