/**
 * Live capture beyond raw frames: `-i any` (LINUX_SLL2), real TCP/HTTP traffic compared with
 * tcpdump capturing at the same time, SIGINT in a flood, an interface that disappears, the event
 * loop staying free while a flood is captured, and file rotation.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { test } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { have, root, run, sh, tempDir, tsharkFields } from '../helpers/cli.js'
import { captureSkip, createVethPair, endCounts, startTcpdumpIn, expectedFrame, startCapture } from './netns.js'

const skip = captureSkip()
/** Packets in each file, by capinfos (one spawn for all). */
const counts = (...files: string[]): number[] => [...sh('capinfos', ['-M', '-c', ...files]).matchAll(/Number of packets:\s+(\d+)/g)].map((m) => Number(m[1]))
const count = (file: string): number => counts(file)[0]

test('-i any writes LINUX_SLL2 that tshark decodes, with the interface index and direction', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'any.pcap')
  const cap = await startCapture(pair, ['-i', 'any', '-w', file])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(10, 80)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  assert.match(cap.stderr(), /listening on any, link-type LINUX_SLL2 \(Linux cooked v2\), snapshot length 262144 bytes/)
  const ifindex = pair.exec(pair.ns, 'cat', [`/sys/class/net/${pair.iface}/ifindex`]).trim()
  const rows = tsharkFields(file, ['frame.len', 'sll.etype', 'sll.ifindex', 'sll.pkttype', 'sll.halen', 'sll.src.eth', 'data.data']).trim().split('\n')
  assert.equal(rows.length, 10)
  rows.forEach((row, i) => {
    const want = expectedFrame(i, 80)
    assert.deepEqual(row.split('\t'), [String(80 - 14 + 20), '0x88b5', ifindex, '3', '6', '02:00:00:00:00:01', want.subarray(14).toString('hex')])
  })
  assert.equal(endCounts(cap.stderr()).captured, 10)
})

test('real HTTP traffic across the veth: the same packets as tcpdump captured at the same time', { skip: skip || (!have('tcpdump') && 'needs tcpdump') }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const server = pair.spawn(pair.peerNs, process.execPath, ['-e', `require('node:http').createServer((q, s) => s.end('x'.repeat(3000))).listen(8080, '${pair.peerAddr}', () => console.log('up'))`])
  t.after(() => server.kill('SIGKILL'))
  await new Promise((resolve) => server.stdout!.once('data', resolve))
  const ours = join(tmp.dir, 'netkit.pcapng')
  const theirs = join(tmp.dir, 'tcpdump.pcap')
  const tcpdump = await startTcpdumpIn(pair, pair.ns, pair.iface, theirs)
  t.after(() => tcpdump.child.kill('SIGKILL'))
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', ours, '-F', 'pcapng', '--nano'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.exec(pair.ns, process.execPath, ['-e', `(async () => { for (let i = 0; i < 20; i++) { const r = await fetch('http://${pair.peerAddr}:8080/r' + i); await r.text() } })()`])
  await sleep(300)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  await tcpdump.stop()
  const fields = ['frame.len', 'ip.src', 'ip.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.len', 'http.response.code']
  const a = tsharkFields(ours, fields)
  const b = tsharkFields(theirs, fields)
  assert.equal(a, b, 'netkit and tcpdump saw the same packets')
  assert.equal(a.split('\n').filter((l) => l.endsWith('\t200')).length, 20, 'all 20 responses are in the file')
  assert.equal(endCounts(cap.stderr()).captured, count(ours))
})

test('SIGINT during a flood: the file is valid and holds exactly the packets counted', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'flood.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, '-B', '256'])
  t.after(() => cap.child.kill('SIGKILL'))
  const sender = pair.spawn(pair.peerNs, 'python3', [join(root, 'test', 'capture', 'fixtures', 'send-frames.py'), pair.peerIface, '2000000', '200'])
  t.after(() => sender.kill('SIGKILL'))
  await new Promise((resolve) => sender.stdout!.once('data', resolve))
  await sleep(500)
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  sender.kill('SIGKILL')
  const counts = endCounts(cap.stderr())
  assert.ok(counts.captured > 1000, `a flood was captured (${counts.captured})`)
  const info = sh('capinfos', ['-M', '-c', file])
  assert.match(info, new RegExp(`Number of packets:\\s+${counts.captured}\\b`), 'capinfos counts what netkit printed')
  assert.equal(counts.received, counts.captured + counts.dropped, 'a stop drains the ring: the counters add up')
})

test('an interface deleted mid-capture ends the capture with one line and a valid file', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'gone.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(7, 100)
  await sleep(200)
  pair.exec(pair.ns, 'ip', ['link', 'del', pair.iface])
  const { code } = await Promise.race([cap.exited, sleep(5000).then(() => ({ code: -1 }))])
  assert.equal(code, 1, `exit status 1: ${cap.stderr()}`)
  assert.match(cap.stderr(), new RegExp(`^netkit capture: the interface ${pair.iface} (disappeared|went down)$`, 'm'))
  assert.equal(endCounts(cap.stderr()).captured, 7)
  assert.equal(count(file), 7, 'the packets before are in a valid file')
})

test('the event loop stays free while a flood is captured (library openLive)', { skip }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const probe = pair.spawn(pair.ns, process.execPath, [join(root, 'test', 'capture', 'fixtures', 'timer-probe.mjs'), pair.iface, '2.5'])
  t.after(() => probe.kill('SIGKILL'))
  const probeDone = new Promise((resolve) => probe.once('close', resolve))
  let out = ''
  probe.stdout!.on('data', (d) => { out += d })
  await new Promise<void>((resolve) => probe.stdout!.once('data', () => resolve()))
  const sender = pair.spawn(pair.peerNs, 'python3', [join(root, 'test', 'capture', 'fixtures', 'send-frames.py'), pair.peerIface, '300000', '64'])
  t.after(() => sender.kill('SIGKILL'))
  await probeDone
  const r = JSON.parse(out.trim().split('\n').pop()!) as { ticks: number; maxGap: number; batches: number; packets: number; ordered: boolean; stats: { captured: number; received: number; dropped: number } }
  assert.ok(r.packets > 50_000, `a flood was captured (${r.packets})`)
  assert.ok(r.batches < r.packets / 20, `whole blocks per call into JS: ${r.batches} batches for ${r.packets} packets`)
  assert.ok(r.ordered, 'timestamps never go back')
  assert.equal(r.stats.captured, r.packets)
  assert.equal(r.stats.received, r.packets + r.stats.dropped, 'kernel counters add up')
  // A blocking reader would starve the timer for the whole flood; a free loop runs it every ~10 ms.
  assert.ok(r.ticks > 100, `the 10 ms timer ran ${r.ticks} times in 2.5 s`)
  assert.ok(r.maxGap < 250, `longest timer gap ${r.maxGap.toFixed(1)} ms`)
})

test('-C rotates files at the size limit; every file is valid and they hold every packet', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const file = join(tmp.dir, 'ring.pcap')
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', file, '-C', '1'])
  t.after(() => cap.child.kill('SIGKILL'))
  pair.send(2500, 1000) // about 2.5 MB: ring.pcap, ring.pcap1, ring.pcap2
  cap.child.kill('SIGINT')
  assert.equal((await cap.exited).code, 0, cap.stderr())
  const files = readdirSync(tmp.dir).sort()
  assert.deepEqual(files, ['ring.pcap', 'ring.pcap1', 'ring.pcap2'])
  for (const f of files.slice(0, 2)) {
    const size = statSync(join(tmp.dir, f)).size
    assert.ok(size > 1_000_000 && size <= 1_000_000 + 1016, `${f} ends at the first packet past 1 MB (${size})`)
  }
  assert.equal(counts(...files.map((f) => join(tmp.dir, f))).reduce((a, b) => a + b, 0), 2500)
  assert.equal(endCounts(cap.stderr()).captured, 2500)
})

test('-G starts a new strftime-named file each interval; -W stops after that many files', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  t.after(() => { pair.cleanup(); tmp.cleanup() })
  const cap = await startCapture(pair, ['-i', pair.iface, '-w', join(tmp.dir, 'g-%s.pcap'), '-G', '1', '-W', '2'])
  t.after(() => cap.child.kill('SIGKILL'))
  const sender = pair.spawn(pair.peerNs, 'python3', [join(root, 'test', 'capture', 'fixtures', 'send-frames.py'), pair.peerIface, '1000', '100', '--gap-us', '5000'])
  t.after(() => sender.kill('SIGKILL'))
  const { code } = await Promise.race([cap.exited, sleep(8000).then(() => ({ code: -1 }))])
  assert.equal(code, 0, `-W 2 ends the capture after the second file: ${cap.stderr()}`)
  const files = readdirSync(tmp.dir).sort()
  assert.equal(files.length, 2)
  const secs = files.map((f) => Number(/^g-(\d+)\.pcap$/.exec(f)?.[1]))
  assert.ok(secs[1] - secs[0] >= 1, `names are the start times: ${files.join(' ')}`)
  const total = counts(...files.map((f) => join(tmp.dir, f))).reduce((a, b) => a + b, 0)
  assert.equal(endCounts(cap.stderr()).captured, total)
  assert.ok(total > 50, `packets in both files (${total})`)
})

test('a full disk ends the capture with one line; the file is valid up to the last whole write', { skip }, async (t) => {
  const pair = createVethPair()
  const tmp = tempDir()
  sh('mount', ['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', tmp.dir])
  let cap: Awaited<ReturnType<typeof startCapture>> | undefined
  t.after(async () => {
    cap?.child.kill('SIGKILL')
    await cap?.exited
    sh('umount', [tmp.dir])
    pair.cleanup()
    tmp.cleanup()
  })
  const file = join(tmp.dir, 'full.pcap')
  cap = await startCapture(pair, ['-i', pair.iface, '-w', file])
  pair.send(3000, 1000)
  const { code } = await Promise.race([cap.exited, sleep(5000).then(() => ({ code: -1 }))])
  assert.equal(code, 1)
  assert.match(cap.stderr(), new RegExp(`^netkit capture: ${file}: cannot write it: no space left on device\\n$`, 'm'))
  const n = count(file)
  assert.ok(n > 1000 && n < 3000, `the file holds the packets written before the disk filled (${n})`)
})

test('setFilter swaps the kernel filter on a running capture; what the old one accepted is still delivered', { skip }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const probe = spawn('ip', ['netns', 'exec', pair.ns, process.execPath, join(root, 'test', 'capture', 'fixtures', 'filter-swap.mjs'), pair.iface], { stdio: ['pipe', 'pipe', 'pipe'] })
  t.after(() => probe.kill('SIGKILL'))
  let out = ''
  let err = ''
  probe.stderr!.on('data', (d) => { err += d })
  probe.stdout!.on('data', (d) => { out += d })
  const waitFor = async (word: string): Promise<void> => {
    for (let waited = 0; !out.includes(word); waited += 10) {
      if (probe.exitCode !== null || waited > 10_000) throw new Error(`no '${word}' from the probe: ${out} ${err}`)
      await sleep(10)
    }
  }
  await waitFor('ready')
  pair.send(4, 100) // 0x88b5: no filter yet
  probe.stdin!.write('swap\n')
  await waitFor('swapped')
  pair.send(3, 100) // 0x88b5: rejected now
  pair.send(2, 100, ['--ethertype', '0x88b6'])
  await sleep(100)
  probe.stdin!.write('end\n')
  await waitFor('stats')
  const r = JSON.parse(out.trim().split('\n').pop()!) as { types: string[]; stats: { captured: number; received: number; dropped: number } }
  assert.deepEqual(r.types, ['88b5', '88b5', '88b5', '88b5', '88b6', '88b6'])
  assert.deepEqual(r.stats, { captured: 6, received: 6, dropped: 0 })
})

test('closing live captures in every way during a flood never crashes', { skip }, async (t) => {
  const pair = createVethPair()
  t.after(() => pair.cleanup())
  const sender = pair.spawn(pair.peerNs, 'python3', [join(root, 'test', 'capture', 'fixtures', 'send-frames.py'), pair.peerIface, '100000000', '64'])
  t.after(() => sender.kill('SIGKILL')) // the flood outlasts the probe: a capture waiting on it is never stuck
  await new Promise((resolve) => sender.stdout!.once('data', resolve))
  const r = await run('ip', ['netns', 'exec', pair.ns, process.execPath, '--expose-gc', join(root, 'test', 'capture', 'fixtures', 'close-stress.mjs'), pair.iface, '100'], { timeoutMs: 30_000 })
  assert.equal(r.signal, null, `no crash: ${r.stderr}`)
  assert.equal(r.code, 0, r.stderr)
  const [, packets, open] = /^ok (\d+) (\d+)\n$/.exec(r.stdout) ?? []
  assert.ok(Number(packets) > 0, `packets were flowing while the captures opened and closed: ${r.stdout}`)
  assert.equal(Number(open), 0, `every capture was closed or finalized: ${r.stderr}`)
})
