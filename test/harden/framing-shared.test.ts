// One HTTP/1 framing module (#24): RFC 9112 section 6.3's rules in src/http/framing.ts, and the
// transport's ResponseParser and the stream reader http-wire framing the same bytes alike.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { BodyFraming, CONTENT_LENGTH_INVALID, StartLine, bodyFraming, contentLengthValue, finalCodingIsChunked, startLineKind } from '../../src/http/framing.js'
import { ResponseParser } from '../../src/http/response-parser.js'
import { HttpWireParser, type WireMessage } from '../../src/stream/http-wire.js'

const b = (s: string) => Buffer.from(s, 'latin1')

test('framing values: Content-Length lists, final coding, start lines', () => {
  const cl = (s: string) => contentLengthValue(b(s), 0, s.length)
  assert.equal(cl(' 42 '), 42)
  assert.equal(cl('5, 5'), 5)
  assert.equal(cl('5, 6'), CONTENT_LENGTH_INVALID)
  assert.equal(cl('-1'), CONTENT_LENGTH_INVALID)
  assert.equal(cl('1e3'), CONTENT_LENGTH_INVALID)
  assert.equal(cl(''), CONTENT_LENGTH_INVALID)
  const te = (s: string) => finalCodingIsChunked(b(s), 0, s.length)
  assert.equal(te('gzip, chunked'), true)
  assert.equal(te('Chunked '), true)
  assert.equal(te('chunked, gzip'), false)
  assert.equal(te('xchunked'), false)
  const line = (s: string) => startLineKind(b(s), 0, s.length)
  assert.equal(line('HTTP/1.1 200 OK'), StartLine.Status)
  assert.equal(line('HTTP/1.0 404'), StartLine.Status)
  assert.equal(line('HTTP/2 200 OK'), StartLine.None)
  assert.equal(line('GET / HTTP/1.1'), StartLine.Request)
  assert.equal(line('M-SEARCH * HTTP/1.1'), StartLine.Request)
  assert.equal(line('get / HTTP/1.1'), StartLine.None)
  assert.equal(line('GET HTTP/1.1'), StartLine.None)
})

test('RFC 9112 section 6.3, rule by rule', () => {
  const head = { isResponse: true, status: 200, requestMethod: 'GET', hasTransferEncoding: false, chunked: false, contentLength: -1 }
  assert.equal(bodyFraming({ ...head, requestMethod: 'HEAD', contentLength: 10 }), BodyFraming.None)
  for (const status of [100, 101, 204, 304]) assert.equal(bodyFraming({ ...head, status, contentLength: 10 }), BodyFraming.None)
  assert.equal(bodyFraming({ ...head, requestMethod: 'CONNECT' }), BodyFraming.None)
  assert.equal(bodyFraming({ ...head, hasTransferEncoding: true, chunked: true, contentLength: 10 }), BodyFraming.Chunked)
  assert.equal(bodyFraming({ ...head, hasTransferEncoding: true, contentLength: 10 }), BodyFraming.UntilClose)
  assert.equal(bodyFraming({ ...head, isResponse: false, hasTransferEncoding: true }), BodyFraming.Invalid)
  assert.equal(bodyFraming({ ...head, contentLength: 0 }), BodyFraming.None)
  assert.equal(bodyFraming({ ...head, contentLength: 7 }), BodyFraming.Length)
  assert.equal(bodyFraming({ ...head, isResponse: false }), BodyFraming.None)
  assert.equal(bodyFraming(head), BodyFraming.UntilClose)
})

/** The body lengths the transport's parser reads from `bytes`, fed one byte at a time. */
function transportBodies(bytes: Buffer): number[] {
  const out: number[] = []
  let body = 0
  const p = new ResponseParser({
    onMessageStart: () => true, expectsNoBody: () => false, onInterim: () => {}, onHead: () => { body = 0 },
    onBody: (_c, s, e) => { body += e - s }, onTrailers: () => {}, onComplete: () => out.push(body),
    onParseError: (_k, m) => { throw new Error(m) },
  })
  for (let i = 0; i < bytes.length; i++) p.feed(bytes.subarray(i, i + 1))
  p.end()
  return out
}

/** The messages http-wire finds in `bytes`, fed `step` bytes at a time. */
function wireMessages(bytes: Buffer, step: number): WireMessage[] {
  const out: WireMessage[] = []
  const w = new HttpWireParser((m) => out.push({ ...m }), () => 'GET')
  for (let at = 0; at < bytes.length; at += step) w.push(bytes, at, Math.min(bytes.length, at + step), 1, 0)
  w.close(3, 0)
  return out
}

test('the transport and http-wire frame the same responses alike', () => {
  const stream = b([
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\nContent-Length: 99\r\n\r\n5;ext=1\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n',
    'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n',
    'HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc',
    'HTTP/1.1 204 No Content\r\n\r\n',
    'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\nuntil the end',
  ].join(''))
  assert.deepEqual(transportBodies(stream), [5, 0, 3, 0, 13])
  for (const step of [1, 7, stream.length]) {
    const wire = wireMessages(stream, step)
    assert.deepEqual(wire.map((m) => m.status), [200, 304, 200, 204, 200], `step ${step}`)
    assert.deepEqual(wire.map((m) => m.chunked), [true, false, false, false, false], `step ${step}`)
    // http-wire counts bodies as sent (chunk framing included).
    assert.deepEqual(wire.map((m) => m.bodyBytes), [35, 0, 3, 0, 13], `step ${step}`)
  }
})
