// tcp.stream numbering equals tshark's: the conversation table fed with the TCP header values
// tshark itself decodes (so this checks the numbering rules alone, on the whole corpus and on
// hand-made port-reuse cases).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import { TcpConversations } from '../../src/stream/tcp-conversations.js'
import { corpus, needs, run, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { tsharkCorpus, tsharkLines } from '../helpers/tshark-corpus.js'
import { pcapHeader, pcapRecord } from '../helpers/capture-builder.js'
import { streamScenarios } from '../helpers/tcp-frames.js'

const FIELDS = ['frame.number', 'ip.src', 'ip.dst', 'ipv6.src', 'ipv6.dst', 'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.flags', 'tcp.stream']

/** The bytes of an IPv4 or IPv6 address in text form. */
function ipBytes(text: string): Buffer {
  if (!text.includes(':')) return Buffer.from(text.split('.').map(Number))
  const [head, tail = ''] = text.split('::')
  const part = (s: string) => (s ? s.split(':').map((h) => parseInt(h, 16)) : [])
  const h = part(head)
  const t = text.includes('::') ? part(tail) : []
  const words = [...h, ...Array(8 - h.length - t.length).fill(0), ...t]
  const b = Buffer.alloc(16)
  words.forEach((w, i) => b.writeUInt16BE(w, i * 2))
  return b
}

/** Runs the table over tshark's decode of `file` and returns [tshark's, ours] stream columns. */
async function compare(file: string): Promise<[string[], string[]]> {
  const table = new TcpConversations()
  const want: string[] = []
  const got: string[] = []
  // The first occurrence of each field (the outer header of a tunnelled packet).
  for (const line of tsharkLines(await tsharkCorpus(file), FIELDS)) {
    const [frame, ip4s, ip4d, ip6s, ip6d, sport, dport, seq, ack, flags, stream] = line.split('\t').map((v) => v.split(',')[0])
    if (stream === '' || sport === '') continue
    const addrs = Buffer.concat([ipBytes(ip6s || ip4s), ipBytes(ip6d || ip4d)])
    const n = addrs.length / 2
    const place = table.lookup(addrs, {
      srcOffset: 0, dstOffset: n, addrLength: n, sport: Number(sport), dport: Number(dport), seq: Number(seq), ack: Number(ack),
      flags: Number(flags), frame: Number(frame), sec: 0, nsec: 0, wireLength: 0, payloadLength: 0,
    })
    want.push(`${frame}:${stream}`)
    got.push(`${frame}:${place.conversation.index}`)
  }
  return [want, got]
}

test('tcp.stream numbering equals tshark on every corpus file', { skip: needs('tshark'), concurrency: 3 }, async (t) => {
  await Promise.all(corpusFiles().map((file) => t.test(relative(corpus, file), async () => {
    const [want, got] = await compare(file)
    assert.deepEqual(got, want)
  })))
})

test('tcp.stream numbering equals tshark on port-reuse scenarios', { skip: needs('tshark') }, async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  for (const [name, frames] of Object.entries(streamScenarios)) {
    const file = join(dir, `${name}.pcap`)
    writeFileSync(file, Buffer.concat([pcapHeader(), ...frames.map((f, i) => pcapRecord(1000 + i, 0, f))]))
    const [want, got] = await compare(file)
    assert.ok(want.length === frames.length, `${name}: tshark decoded ${want.length} of ${frames.length}`)
    assert.deepEqual(got, want, name)
  }
})

test('expire() forgets idle closed conversations, with or without `all` kept', () => {
  for (const retain of [true, false]) {
    const table = new TcpConversations({ retain })
    const data = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2])
    const seg = (src: number, sport: number, dport: number, flags: number, t: number) =>
      table.lookup(data, { srcOffset: src, dstOffset: 4 - src, addrLength: 4, sport, dport, seq: 1, ack: 1, flags, frame: 1, sec: t, nsec: 0, wireLength: 60, payloadLength: 0 }).conversation
    const c = seg(0, 1000, 80, 0x11, 1) // FIN from A
    seg(4, 80, 1000, 0x11, 2) // FIN from B
    const open = seg(0, 2000, 80, 0x10, 2)
    assert.equal(table.expire(100, 10), 1, `retain ${retain}`)
    assert.equal(table.all.length, retain ? 1 : 0)
    assert.notEqual(seg(0, 1000, 80, 0x10, 101), c, 'the expired conversation is not found again')
    assert.equal(seg(0, 2000, 80, 0x10, 101), open, 'an open one stays')
  }
})

test('forgetClosedAfter: lookup() expires closed idle conversations itself, and a SYN on their ports is still port reuse', () => {
  const table = new TcpConversations({ retain: false, forgetClosedAfter: 60 })
  const data = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2])
  const seg = (src: number, sport: number, dport: number, seq: number, flags: number, t: number) =>
    table.lookup(data, { srcOffset: src, dstOffset: 4 - src, addrLength: 4, sport, dport, seq, ack: 1, flags, frame: 1, sec: t, nsec: 0, wireLength: 60, payloadLength: 0 })
  const first = seg(0, 1000, 80, 100, 0x02, 1).conversation // SYN
  seg(4, 80, 1000, 500, 0x12, 1) // SYN-ACK
  seg(0, 1000, 80, 101, 0x11, 2) // FIN
  seg(4, 80, 1000, 501, 0x11, 2) // FIN
  const open = seg(0, 2000, 80, 7, 0x02, 3).conversation
  const halfClosed = seg(0, 3000, 80, 9, 0x11, 3).conversation // FIN one way only: not closed
  // Many segments of one more connection, 100 s later: the sweeps run.
  for (let i = 0; i < 10000; i++) seg(0, 4000, 80, 1 + i, 0x10, 100)
  assert.equal(table.held, 3, 'the closed conversation is forgotten, the open and half-closed ones kept')
  assert.equal(seg(0, 2000, 80, 7, 0x10, 101).conversation, open)
  assert.equal(seg(0, 3000, 80, 9, 0x10, 101).conversation, halfClosed)
  const again = seg(0, 1000, 80, 9999, 0x02, 102)
  assert.ok(again.reused, 'a new SYN on the forgotten conversation\'s ports is port reuse')
  assert.notEqual(again.conversation, first)
  assert.equal(again.conversation.index, 4, 'the next index: the forgotten one stays used')
  assert.equal(seg(0, 5000, 80, 1, 0x02, 102).reused, false, 'new ports are not reuse')
})

test('without forgetClosedAfter nothing is expired by lookup()', () => {
  const table = new TcpConversations({ retain: false })
  const data = Buffer.from([10, 0, 0, 1, 10, 0, 0, 2])
  const seg = (sport: number, flags: number, t: number) =>
    table.lookup(data, { srcOffset: 0, dstOffset: 4, addrLength: 4, sport, dport: 80, seq: 1, ack: 1, flags, frame: 1, sec: t, nsec: 0, wireLength: 60, payloadLength: 0 })
  seg(1000, 0x04, 1) // RST: closed
  for (let i = 0; i < 10000; i++) seg(2000, 0x10, 1000)
  assert.equal(table.held, 2)
})
