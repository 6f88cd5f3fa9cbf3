// The library's view of a dissected packet (readPackets, dissect, DissectedPacket.get/all/has,
// layers) on real captures, checked against tshark's values for the same frames.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { corpus, needs, tsharkFields } from '../helpers/cli.js'
import { dissect, readPackets } from '../../src/dissect/read-packets.js'
import { openCaptureFile } from '../../src/pcap/file-reader.js'
import { DisplayFilterError, InvalidArgumentError } from '../../src/errors.js'

const handshake = join(corpus, 'tcpdump', 'tcp-handshake-nano.pcap')
const http = join(corpus, 'tcpdump', 'ipv4_tcp_http_xml.pcap')
const FIELDS = ['frame.number', 'frame.len', 'ip.src', 'ip.addr', 'tcp.srcport', 'tcp.flags', 'tcp.flags.syn', 'http.request.method']

/** tshark's rows for FIELDS (an absent field is ''). */
function tsharkRows(file: string, extra: string[] = []): string[][] {
  return tsharkFields(file, FIELDS, extra).split('\n').filter(Boolean).map((l) => l.split('\t'))
}

/** A FieldValue as tshark -T fields prints it (numbers decimal; hex fields as 0x...). */
function asTshark(name: string, v: unknown): string {
  if (v === undefined) return ''
  if (typeof v === 'boolean') return v ? '1' : '0'
  if (name === 'tcp.flags' && typeof v === 'number') return '0x' + v.toString(16).padStart(4, '0')
  return String(v)
}

test('readPackets yields every packet with tshark\'s field values', { skip: needs('tshark') }, async () => {
  for (const file of [handshake, http]) {
    const want = tsharkRows(file)
    const got: string[][] = []
    for await (const p of readPackets(file)) {
      got.push(FIELDS.map((f) => f === 'ip.addr' ? p.all(f).join(',') : asTshark(f, p.get(f))))
    }
    assert.deepEqual(got, want, file)
  }
})

test('has(), layers and frame.protocols describe the packet', async () => {
  let n = 0
  for await (const p of readPackets(http)) {
    n++
    assert.equal(p.has('tcp'), true)
    assert.equal(p.has('udp'), false)
    assert.equal(p.has('nosuch.field'), false)
    const names = p.layers.map((l) => l.name)
    assert.deepEqual(names.filter((n) => n === 'eth' || n === 'ip' || n === 'tcp'), ['eth', 'ip', 'tcp'])
    assert.equal(p.protocolsText().split(':').filter((n) => n !== 'ethertype').join(':'), names.join(':'))
    for (const l of p.layers) assert.ok(l.start >= p.offset && l.start + l.length <= p.offset + p.capLen, 'a layer lies inside its frame')
    assert.equal(p.has('http.request'), p.get('http.request.method') !== undefined)
  }
  assert.ok(n > 0)
})

test('readPackets with a display filter yields what tshark -Y selects', { skip: needs('tshark') }, async () => {
  for (const expr of ['tcp.flags.syn == 1', 'http.request.method == "GET"', 'tcp.len > 0 && ip.src == 10.0.0.1', 'frame.number >= 3']) {
    const want = tsharkRows(http, ['-Y', expr]).map((r) => Number(r[0]))
    const got: number[] = []
    for await (const p of readPackets(http, { displayFilter: expr, fields: ['frame.number'] })) got.push(p.number)
    assert.deepEqual(got, want, expr)
  }
})

test('readPackets with fields records only those, and refuses unknown names and bad filters', async () => {
  for await (const p of readPackets(handshake, { fields: ['tcp.srcport'] })) {
    assert.equal(typeof p.get('tcp.srcport'), 'number')
    assert.equal(p.get('ip.ttl'), undefined, 'a field not asked for is not recorded')
  }
  await assert.rejects(async () => { for await (const _ of readPackets(handshake, { fields: ['tcp.nope'] })) break }, InvalidArgumentError)
  await assert.rejects(async () => { for await (const _ of readPackets(handshake, { displayFilter: 'tcp.port ==' })) break }, DisplayFilterError)
})

test('dissect() decodes one frame\'s bytes as readPackets does', async () => {
  const reader = await openCaptureFile(handshake)
  const batches = reader.batches()
  const { value: batch } = await batches.next()
  const bytes = batch!.bytes(0)
  const linkType = batch!.linkType[0]
  await reader.close()
  const p = await dissect(bytes, { linkType })
  let first: Record<string, unknown> | undefined
  for await (const q of readPackets(handshake)) { first = { src: q.get('ip.src'), port: q.get('tcp.srcport'), proto: q.protocolsText() }; break }
  assert.deepEqual({ src: p.get('ip.src'), port: p.get('tcp.srcport'), proto: p.protocolsText() }, first)
  assert.ok(p.has('tcp'))
  // Read as another link type, the same bytes do not decode to TCP.
  const raw = await dissect(bytes, { linkType: linkType === 1 ? 101 : 1 })
  assert.equal(raw.get('tcp.srcport'), undefined)
})
