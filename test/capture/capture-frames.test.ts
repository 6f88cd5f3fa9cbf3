/**
 * `netkit capture` on a real veth pair in network namespaces: frames of known bytes sent from the
 * peer are all captured, and tshark (the oracle) reads the same bytes, count and ns timestamps.
 */
import assert from 'node:assert/strict'
import { readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { tempDir, tsharkFields } from '../helpers/cli.js'
import { captureSkip, createVethPair, endCounts, expectedFrame, startCapture } from './netns.js'

const skip = captureSkip()

/** tshark's view of the 0x88b5 test frames: index, dst, src, payload hex, length, time, vlan id. */
function framesOf(file: string): Array<{ dst: string; src: string; data: string; len: number; time: string; vlan: string; etype: string }> {
  return tsharkFields(file, ['eth.dst', 'eth.src', 'data.data', 'frame.len', 'frame.time_epoch', 'vlan.id', 'eth.type'])
    .split('\n').filter((l) => l !== '').map((l) => {
      const [dst, src, data, len, time, vlan, etype] = l.split('\t')
      return { dst, src, data, len: Number(len), time, vlan, etype }
    })
}

test('frames from the peer namespace are captured byte for byte, in promiscuous mode, with ns timestamps', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'frames.pcap')
  const before = pair.promiscuity()
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, '--nano'])
  t.after(() => cap.child.kill('SIGKILL'))
  assert.equal(pair.promiscuity(), before + 1, 'PACKET_MR_PROMISC membership raises the promiscuity count')
  pair.send(200, 60)
  pair.send(100, 1514)
  cap.child.kill('SIGINT')
  const { code } = await cap.exited
  assert.equal(code, 0, cap.stderr())
  assert.equal(pair.promiscuity(), before, 'the kernel drops the membership when the socket closes')
  assert.match(cap.stderr(), new RegExp(`^listening on ${pair.iface}, link-type EN10MB \\(Ethernet\\), snapshot length 262144 bytes$`, 'm'))
  const counts = endCounts(cap.stderr())
  const frames = framesOf(file)
  assert.equal(frames.length, 300, 'every frame sent is in the file')
  assert.deepEqual(counts, { captured: 300, received: 300, dropped: 0 })
  frames.forEach((f, n) => {
    const i = n < 200 ? n : n - 200
    const want = expectedFrame(i, n < 200 ? 60 : 1514)
    assert.equal(f.len, want.length)
    assert.equal(f.dst, '02:00:00:00:00:02')
    assert.equal(f.src, '02:00:00:00:00:01')
    assert.equal(f.data, want.subarray(14).toString('hex'), `frame ${n + 1} bytes`)
  })
  // Nanosecond timestamps: increasing, and not all multiples of a microsecond.
  const ns = frames.map((f) => BigInt(f.time.replace('.', '')))
  for (let i = 1; i < ns.length; i++) assert.ok(ns[i] > ns[i - 1], `timestamp ${i + 1} after ${i}`)
  assert.ok(ns.some((v) => v % 1000n !== 0n), 'sub-microsecond digits are kept')
  const now = BigInt(Date.now()) * 1_000_000n
  assert.ok(now - ns[0] < 60_000_000_000n && ns[0] < now, 'timestamps are wall-clock time')
})

test('-p stays out of promiscuous mode; SIGKILL gives the promiscuity back', { skip }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const before = pair.promiscuity()
  const quiet = await startCapture(pair, ['-i', pair.iface, '-p', '-w', '/dev/null'])
  t.after(() => quiet.child.kill('SIGKILL'))
  assert.equal(pair.promiscuity(), before, '-p: no membership')
  quiet.child.kill('SIGINT')
  await quiet.exited
  const loud = await startCapture(pair, ['-i', pair.iface, '-w', '/dev/null'])
  t.after(() => loud.child.kill('SIGKILL'))
  assert.equal(pair.promiscuity(), before + 1)
  loud.child.kill('SIGKILL')
  const { signal } = await loud.exited
  assert.equal(signal, 'SIGKILL')
  assert.equal(pair.promiscuity(), before, 'the kernel undoes the membership of a killed process')
})

test('a VLAN-tagged frame is written with its tag, which the kernel had moved to metadata', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'vlan.pcapng')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, '-F', 'pcapng'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(5, 100, ['--vlan', '42'])
  cap.child.kill('SIGTERM')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  const frames = framesOf(file)
  assert.equal(frames.length, 5)
  frames.forEach((f, i) => {
    assert.equal(f.etype, '0x8100', 'the outer EtherType is 802.1Q again')
    assert.equal(f.vlan, '42')
    assert.equal(f.len, 100, 'the frame has its wire length, tag included')
    assert.equal(f.data, expectedFrame(i, 100, 42).subarray(18).toString('hex'))
  })
})

test('blocks of large frames go from the ring to the file in place: VLAN tags, -c, and -i any SLL2 headers', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  // Blocks whose packets average 512 bytes or more are written with writev() straight from the
  // ring, the record header (and tag, or SLL2 header) put in the ring's headroom before each frame.
  const file = join(tmp.dir, 'big-vlan.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, '--nano', '-c', '30'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(40, 1400, ['--vlan', '42'])
  assert.equal((await cap.exited).code, 0, cap.stderr())
  assert.equal(endCounts(cap.stderr()).captured, 30, '-c 30 ends the capture after 30 packets')
  const frames = framesOf(file)
  assert.equal(frames.length, 30)
  frames.forEach((f, i) => {
    assert.equal(f.vlan, '42')
    assert.equal(f.len, 1400)
    assert.equal(f.data, expectedFrame(i, 1400, 42).subarray(18).toString('hex'), `frame ${i + 1} bytes`)
  })

  const anyFile = join(tmp.dir, 'big-any.pcap')
  const any = await startCapture(pair, ['-i', 'any', '-w', anyFile])
  t.after(() => any.child.kill('SIGKILL'))
  pair.send(20, 1400)
  any.child.kill('SIGINT')
  assert.equal((await any.exited).code, 0, any.stderr())
  const rows = tsharkFields(anyFile, ['frame.len', 'sll.etype', 'sll.src.eth', 'data.data']).trim().split('\n')
  assert.equal(rows.length, 20)
  rows.forEach((row, i) => {
    assert.deepEqual(row.split('\t'), [String(1400 - 14 + 20), '0x88b5', '02:00:00:00:00:01', expectedFrame(i, 1400).subarray(14).toString('hex')])
  })
})

test('in place, records go out a MiB at a time across ring blocks: every frame whole and in order, -c exact', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  // 5,000 frames of 1,400 bytes fill many 256 KiB blocks; in a ring of 8 blocks or more a
  // writev() takes the records that make a MiB, so blocks are written in pieces and the 5,000th
  // record ends inside one. The 16 MiB ring holds all 6,000 frames the sender sends at once, so
  // none is dropped.
  const file = join(tmp.dir, 'many.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, '--nano', '-B', '16384', '-c', '5000'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(6000, 1400)
  assert.equal((await cap.exited).code, 0, cap.stderr())
  const counts = endCounts(cap.stderr())
  assert.equal(counts.captured, 5000)
  assert.equal(counts.dropped, 0)
  const b = readFileSync(file)
  assert.equal(b.readUInt32LE(0), 0xa1b23c4d, 'a nanosecond pcap')
  let n = 0
  let prevTime = 0n
  for (let off = 24; off < b.length; n++) {
    assert.ok(off + 16 <= b.length, `record ${n + 1} has a whole header`)
    const time = BigInt(b.readUInt32LE(off)) * 1_000_000_000n + BigInt(b.readUInt32LE(off + 4))
    const len = b.readUInt32LE(off + 8)
    assert.equal(len, 1400, `record ${n + 1} length`)
    // The sender's frames repeat after the 4096th.
    const data = b.subarray(off + 16, off + 16 + len)
    assert.equal(data.readUInt32BE(14), n % 4096, `record ${n + 1} is frame ${n % 4096}`)
    assert.ok(data.equals(expectedFrame(n % 4096, 1400)), `record ${n + 1} bytes`)
    assert.ok(time >= prevTime, `record ${n + 1} time does not go back`)
    prevTime = time
    off += 16 + len
  }
  assert.equal(n, 5000)
})

test('without a limit, records less than a MiB reach the file within a second while the capture runs', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  // 300 frames of 1,400 bytes: 0.4 MiB, in place, fewer than a write gathers. The writer is not
  // woken for them (no -c); it finds them when it looks and writes them out after a quiet spell.
  const file = join(tmp.dir, 'slow.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(300, 1400)
  const want = 24 + 300 * (16 + 1400)
  const t0 = Date.now()
  while (statSync(file).size < want && Date.now() - t0 < 10_000) await sleep(50)
  assert.equal(statSync(file).size, want, 'all 300 records are in the file before the capture ends')
  assert.equal(cap.child.exitCode, null, 'the capture is still running')
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  assert.deepEqual(endCounts(cap.stderr()), { captured: 300, received: 300, dropped: 0 })
  const b = readFileSync(file)
  assert.equal(b.length, want)
  for (let n = 0, off = 24; n < 300; n++, off += 16 + 1400) {
    assert.equal(b.readUInt32LE(off + 8), 1400, `record ${n + 1} length`)
    assert.ok(b.subarray(off + 16, off + 16 + 1400).equals(expectedFrame(n, 1400)), `record ${n + 1} bytes`)
  }
})
