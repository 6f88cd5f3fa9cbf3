/**
 * Logical operators and precedence, as tshark 4.0 evaluates them: `and` binds tighter than `or`,
 * `not` tighter than both; `&&`, `||`, `!` are the same operators; 4.0 has no `xor`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matches, packet, tcpPacket } from './packets.js'

const frame = (n: number) => packet().num('frame.number', n).build()

describe('display filter logic', () => {
  it('tests field and protocol existence', () => {
    const p = tcpPacket()
    assert.equal(matches('tcp', p), true)
    assert.equal(matches('udp', p), false)
    assert.equal(matches('tcp.srcport', p), true)
    assert.equal(matches('http.request', p), false)
    assert.equal(matches('.tcp', p), true, 'a leading dot names a field')
  })

  it('and/&&, or/||, not/! combine tests', () => {
    const p = tcpPacket()
    assert.equal(matches('tcp and ip', p), true)
    assert.equal(matches('tcp && udp', p), false)
    assert.equal(matches('udp or tcp', p), true)
    assert.equal(matches('udp || arp', p), false)
    assert.equal(matches('not udp', p), true)
    assert.equal(matches('!tcp', p), false)
    assert.equal(matches('!!tcp', p), true)
    assert.equal(matches('not not tcp', p), true)
    assert.equal(matches('tcp.port==80&&ip', p), true)
  })

  it('gives and precedence over or (tshark: 1 or 2 and 3 matches frame 1 only)', () => {
    const e = 'frame.number == 1 or frame.number == 2 and frame.number == 3'
    assert.equal(matches(e, frame(1)), true)
    assert.equal(matches(e, frame(2)), false)
    assert.equal(matches(e, frame(3)), false)
    assert.equal(matches('frame.number == 3 and frame.number == 2 or frame.number == 1', frame(1)), true)
  })

  it('binds not tighter than and (tshark: not 1 and 2 matches frame 2)', () => {
    assert.equal(matches('not frame.number == 1 and frame.number == 2', frame(2)), true)
    assert.equal(matches('not frame.number == 1 and frame.number == 2', frame(1)), false)
    assert.equal(matches('not (frame.number == 1 or frame.number == 2)', frame(2)), false)
  })

  it('groups with parentheses', () => {
    const e = '(frame.number == 1 or frame.number == 2) and frame.number == 2'
    assert.equal(matches(e, frame(2)), true)
    assert.equal(matches(e, frame(1)), false)
    assert.equal(matches('((tcp.port == 80))', tcpPacket()), true)
  })
})
