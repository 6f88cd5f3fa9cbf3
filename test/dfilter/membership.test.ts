/**
 * Set membership `in {a, b, lo..hi}` and `not in` (4.0: elements separated by commas, ranges
 * inclusive, fields allowed as elements; `not in` is `!(... in ...)`, true when the field is
 * absent).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matches, packet, tcpPacket } from './packets.js'

describe('display filter sets', () => {
  const p = tcpPacket()

  it('matches when any occurrence is an element', () => {
    assert.equal(matches('tcp.port in {80, 443}', p), true)
    assert.equal(matches('tcp.port in {443}', p), false)
    assert.equal(matches('tcp.port in{0x50}', p), true)
    assert.equal(matches('tcp.port in {tcp.dstport}', p), true)
  })

  it('takes inclusive ranges, empty when reversed', () => {
    assert.equal(matches('tcp.port in {70..80}', p), true)
    assert.equal(matches('tcp.port in {81 .. 100, 1000..1233}', p), false)
    assert.equal(matches('tcp.port in {100..50}', p), false)
    assert.equal(matches('ip.src in {10.0.0.0/8, 192.168.0.0/16}', p), true)
    const s = packet().bytes('http.request.method', 'GET').build()
    assert.equal(matches('http.request.method in {"A".."Z"}', s), true)
    assert.equal(matches('http.request.method in {"GET", "POST"}', s), true)
  })

  it('not in is the negation, true when the field is absent', () => {
    assert.equal(matches('tcp.port not in {80}', p), false)
    assert.equal(matches('tcp.port not in {443, 8080}', p), true)
    assert.equal(matches('udp.port not in {53}', p), true)
    assert.equal(matches('not tcp.port in {80}', p), false)
  })
})
