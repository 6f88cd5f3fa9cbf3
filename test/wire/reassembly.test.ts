// IPv4 and IPv6 reassembly as Wireshark does it by default: 4000-byte pings between network
// namespaces (IPv4 and IPv6 over a 1500-byte veth) are put together at the frame of their last
// fragment, with tshark's ip.fragment / ipv6.fragment fields; ip.frag_offset is the 13-bit
// value; a zero IPv4 total length (segmentation offload) is read as tshark reads it; fragments
// that never complete leave the table bounded.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { FragmentTable, readPackets } from '../../src/index.js'
import { needs, root, tempDir } from '../helpers/cli.js'
import { compareWithTshark, REASSEMBLY_FIELDS } from './field-compare.js'
import { captureTunnels, labSkip } from './tunnel-lab.js'
import { pcapRecords } from './hostile.js'

const skip = labSkip()
const tmp = tempDir('netkit-reasm-')
let capture = ''

before(async () => {
  if (!skip) capture = (await captureTunnels(join(tmp.dir, 'fragments.pcap'), [])).file
})
after(() => tmp.cleanup())

/** The records of a little-endian classic pcap file, as [record header, data]. */
function records(file: Buffer): Array<[Buffer, Buffer]> {
  return pcapRecords(file).map(([h, d, cap]) => [file.subarray(h, h + 16), file.subarray(d, d + cap)])
}

test('4000-byte pings, IPv4 and IPv6: reassembly fields equal tshark\'s', { skip }, async () => {
  const r = await compareWithTshark(capture, REASSEMBLY_FIELDS)
  assert.deepEqual(r.mismatches, [], `${r.agree}/${r.total} values agree`)
  const done: Array<{ v4: unknown; v6: unknown }> = []
  for await (const p of readPackets(capture, { fields: ['ip.fragment.count', 'ipv6.fragment.count', 'icmp.type', 'icmpv6.type'] })) {
    if (p.has('ip.fragment.count') || p.has('ipv6.fragment.count')) done.push({ v4: p.get('icmp.type'), v6: p.get('icmpv6.type') })
  }
  // Requests and replies, both families: the ICMP layer is on the completing frame only.
  assert.ok(done.filter((d) => d.v4 !== undefined).length >= 4, 'IPv4 echo requests and replies reassembled')
  assert.ok(done.filter((d) => d.v6 !== undefined).length >= 4, 'IPv6 echo requests and replies reassembled')
})

test('fragments that never complete: no datagram is made up, and the run goes through them all', { skip }, async () => {
  // The capture without the last fragment of each IPv4 datagram, its other fragments repeated
  // under 3000 identifications: 6000+ datagrams that never complete.
  const file = readFileSync(capture)
  const parts: Buffer[] = [file.subarray(0, 24)]
  let copies = 0
  for (const [head, data] of records(file)) {
    const ipv4 = data.length >= 34 && data.readUInt16BE(12) === 0x0800
    const fo = ipv4 ? data.readUInt16BE(20) : 0
    if (!ipv4 || (fo & 0x3fff) === 0) continue
    if ((fo & 0x2000) === 0) continue // the last fragment: dropped
    for (let id = 0; id < 3000; id++) {
      const copy = Buffer.from(data)
      copy.writeUInt16BE(id, 18)
      parts.push(head, copy)
      copies++
    }
  }
  const hostile = join(tmp.dir, 'incomplete.pcap')
  writeFileSync(hostile, Buffer.concat(parts))
  assert.ok(copies >= 6000, `${copies} fragments written`)
  let completed = 0
  let seen = 0
  for await (const p of readPackets(hostile, { fields: ['ip.fragment.count', 'icmp.type'] })) {
    seen++
    if (p.has('ip.fragment.count') || p.has('icmp.type')) completed++
  }
  assert.equal(seen, copies)
  assert.equal(completed, 0)
})

test('FragmentTable: completes out of order, remembers the completing frame, stays within its bounds', () => {
  const t = new FragmentTable({ maxDatagrams: 100, maxBytes: 100_000, timeoutSec: 30 })
  const bytes = Buffer.from('abcdefghijklmnopqrstuvwx')
  assert.equal(t.add('k', 1, 0, 16, bytes, 16, 24, false), undefined)
  assert.equal(t.add('k', 2, 0, 0, bytes, 0, 8, true), undefined)
  const done = t.add('k', 3, 0, 8, bytes, 8, 16, true)
  assert.ok(done)
  assert.equal(done.data.toString(), bytes.toString())
  assert.deepEqual(done.frames, [2, 3, 1])
  assert.equal(t.completedIn('k'), 3)
  assert.deepEqual(t.size, { datagrams: 0, bytes: 0 })
  // Many datagrams that never complete: the oldest go, the bounds hold.
  for (let i = 0; i < 10_000; i++) t.add(`x${i}`, i, 1, 0, bytes, 0, 24, true)
  assert.ok(t.size.datagrams <= 100 && t.size.bytes <= 100_000, JSON.stringify(t.size))
  // Capture time moves on past the timeout: what is left expires.
  t.add('late', 1, 100, 0, bytes, 0, 8, true)
  assert.deepEqual(t.size, { datagrams: 1, bytes: 8 })
  // A fragment past the largest datagram is not held.
  assert.equal(t.add('big', 1, 100, 65530, bytes, 0, 24, false), undefined)
  assert.deepEqual(t.size, { datagrams: 1, bytes: 8 })
})

test('IPv4 total length 0 (segmentation offload): the datagram is what the link carries, as tshark reads it', { skip: needs('tshark') }, async () => {
  // Real VXLAN traffic (tcpdump's test capture) with every outer total length set to 0.
  const file = readFileSync(join(root, 'test', 'fixtures', 'wire', 'vxlan.pcap'))
  const parts: Buffer[] = [file.subarray(0, 24)]
  for (const [head, data] of records(file)) {
    const copy = Buffer.from(data)
    if (copy.readUInt16BE(12) === 0x0800) copy.writeUInt16BE(0, 16)
    parts.push(head, copy)
  }
  const tso = join(tmp.dir, 'tso.pcap')
  writeFileSync(tso, Buffer.concat(parts))
  const r = await compareWithTshark(tso, ['frame.number', 'ip.len', 'ip.src', 'udp.length', 'vxlan.vni', 'eth.src', 'icmp.seq'])
  assert.deepEqual(r.mismatches, [], `${r.agree}/${r.total} values agree`)
})
