// A keep-alive connection on which the capture (not the network) lost a segment each way, as
// tcpdump does when its buffer overflows: the peer's ACKs cover the bytes the file never saw
// (tshark's "ACKed unseen segment"), so http-log must give the gap up at once and go on pairing
// requests and responses, and agree with tshark, however much data follows the gap.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, tempDir } from '../helpers/cli.js'
import { pcapHeader, pcapRecord } from '../helpers/capture-builder.js'
import { A, B, F, tcpFrame } from '../helpers/tcp-frames.js'
import { assertHttpLogMatchesTshark } from '../helpers/http-compare.js'
import { Reassembler, ReassemblyBudget } from '../../src/stream/reassembler.js'

const { dir, cleanup } = tempDir('netkit-loss-')
test.after(cleanup)

const request = Buffer.from('GET /index.html HTTP/1.1\r\nHost: b\r\n\r\n')
const response = Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n${'x'.repeat(200)}`)

/**
 * Writes `exchanges` request/response pairs on one connection, leaving out the request and the
 * response of exchange `lost` (they reached the peer, which ACKs them, but not the file).
 */
function lossyCapture(file: string, exchanges: number, lost: number): void {
  let cseq = 1000, sseq = 5000
  const recs: Buffer[] = [pcapHeader()]
  let t = 0
  const put = (f: Buffer) => { recs.push(pcapRecord(1_700_000_000, t++, f)) }
  put(tcpFrame(A, B, 40000, 80, cseq - 1, 0, F.SYN))
  put(tcpFrame(B, A, 80, 40000, sseq - 1, cseq, F.SA))
  put(tcpFrame(A, B, 40000, 80, cseq, sseq, F.ACK))
  for (let i = 0; i < exchanges; i++) {
    if (i !== lost) put(tcpFrame(A, B, 40000, 80, cseq, sseq, F.PA, request))
    cseq += request.length
    if (i !== lost) put(tcpFrame(B, A, 80, 40000, sseq, cseq, F.PA, response))
    sseq += response.length
  }
  put(tcpFrame(A, B, 40000, 80, cseq, sseq, F.FA))
  put(tcpFrame(B, A, 80, 40000, sseq, cseq + 1, F.FA))
  put(tcpFrame(A, B, 40000, 80, cseq + 1, sseq + 1, F.ACK))
  writeFileSync(file, Buffer.concat(recs))
}

test('segments lost by the capture but ACKed by the peer: the gap is given up at once', async () => {
  const file = join(dir, 'lossy.pcap')
  // 20,000 responses of 239 bytes: 4.8 MB after the gap, more than a direction may hold.
  lossyCapture(file, 20_000, 100)
  const r = await netkit(['http-log', '-r', file, '--json'])
  assert.equal(r.code, 0, r.stderr)
  assert.doesNotMatch(r.stderr, /gave up/, 'no gap should wait for a memory cap')
  const log = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
  assert.equal(log.length, 19_999)
  // Every logged transaction is whole and paired with the response that answered it.
  for (const t of log) {
    assert.equal(t.status, 200)
    assert.equal(t.response_body_bytes, 200)
    assert.ok(t.response_frame === t.request_frame + 1, `request frame ${t.request_frame} answered by ${t.response_frame}`)
  }
})

test('http-log of a lossy keep-alive capture equals tshark', { skip: needs('tshark') }, async () => {
  const file = join(dir, 'lossy-small.pcap')
  lossyCapture(file, 300, 50)
  await assertHttpLogMatchesTshark(file, 299, [80])
})

/** A Reassembler whose sink records what it hands on: data as text, gaps as `[gap N]`, the end. */
function recorder() {
  const out: string[] = []
  let ended = ''
  const r = new Reassembler({
    data: (d, s, e) => { out.push(d.toString('latin1', s, e)) },
    gap: (n) => { out.push(`[gap ${n}]`) },
    end: (how) => { ended = how },
  }, new ReassemblyBudget())
  return { r, out, ended: () => ended }
}

test('an ACK seen before the segment it covers (a reordered capture) loses nothing', () => {
  const { r, out } = recorder()
  r.segment(99, 0x02, Buffer.alloc(0), 0, 0, 1, 0) // SYN: data starts at 100
  r.segment(105, 0x18, Buffer.from('world'), 0, 5, 2, 0) // held: 100..104 not seen yet
  r.acked(110, 3, 0) // the peer has everything up to 110
  r.segment(100, 0x18, Buffer.from('hello'), 0, 5, 4, 0) // ... and here are 100..104
  assert.deepEqual(out, ['hello', 'world'])
})

test('bytes the peer ACKed that never come are given up at the next segment', () => {
  const { r, out } = recorder()
  r.segment(99, 0x02, Buffer.alloc(0), 0, 0, 1, 0)
  r.segment(105, 0x18, Buffer.from('world'), 0, 5, 2, 0)
  r.acked(110, 3, 0)
  r.segment(110, 0x18, Buffer.from('again'), 0, 5, 4, 0)
  assert.deepEqual(out, ['[gap 5]', 'world', 'again'])
})

test('bytes lost before a FIN the peer ACKed: the direction ends', () => {
  const { r, out, ended } = recorder()
  r.segment(99, 0x02, Buffer.alloc(0), 0, 0, 1, 0)
  r.segment(100, 0x18, Buffer.from('hello'), 0, 5, 2, 0)
  r.segment(120, 0x11, Buffer.alloc(0), 0, 0, 3, 0) // FIN at 120: 105..119 never seen
  r.acked(121, 4, 0)
  assert.equal(r.closed, false)
  r.acked(121, 5, 0) // the next packet of the conversation settles it
  assert.deepEqual(out, ['hello', '[gap 15]'])
  assert.equal(r.closed, true)
  assert.equal(ended(), 'fin')
})
