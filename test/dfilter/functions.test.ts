/**
 * Functions (len, count, lower, upper, string, max, min, abs), arithmetic (`+ - * / %`,
 * grouped with `{ }`, unary minus) and bitwise `&`, as tshark 4.0.17 evaluates them.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ip, matches, packet, tcpPacket } from './packets.js'

describe('display filter functions', () => {
  const p = packet()
    .proto('tcp', new Array(40).fill(0)).num('tcp.srcport', 80).num('tcp.dstport', 55920).num('tcp.port', 80, 55920).num('tcp.flags', 0x12)
    .proto('http').bytes('http.request.method', 'GET').text('http.host', 'Example.ORG')
    .bytes('ip.src', ip('127.0.0.1')).bytes('eth.src', [0, 0x1a, 2, 3, 4, 5])
    .build()

  it('len gives byte lengths per occurrence', () => {
    assert.equal(matches('len(http.request.method) == 3', p), true)
    assert.equal(matches('len(tcp) == 40', p), true)
    assert.equal(matches('len(ip.src) == 4', p), true)
    assert.equal(matches('len(eth.src) == 6', p), true)
    assert.equal(matches('len(http.host) > 3', p), true)
  })

  it('count gives the number of occurrences, and nothing when absent', () => {
    assert.equal(matches('count(tcp.port) == 2', p), true)
    assert.equal(matches('count(tcp) == 1', p), true)
    assert.equal(matches('count(udp.port) == 0', p), false)
  })

  it('lower and upper map ASCII case', () => {
    assert.equal(matches('lower(http.request.method) == "get"', p), true)
    assert.equal(matches('upper(http.host) == "EXAMPLE.ORG"', p), true)
    assert.equal(matches('lower(http.host) contains "org"', p), true)
    assert.equal(matches('lower(http.request.method) matches "^g"', p), true)
  })

  it('string converts integers (decimal) and addresses to text', () => {
    assert.equal(matches('string(tcp.flags) == "18"', p), true)
    assert.equal(matches('string(tcp.port) contains "59"', p), true)
    assert.equal(matches('string(ip.src) == "127.0.0.1"', p), true)
    assert.equal(matches('string(eth.src) == "00:1a:02:03:04:05"', p), true)
  })

  it('max, min over all occurrences of all arguments; abs per occurrence', () => {
    assert.equal(matches('max(tcp.srcport, tcp.dstport) == 55920', p), true)
    assert.equal(matches('min(tcp.srcport, tcp.dstport) == 80', p), true)
    assert.equal(matches('max(tcp.port) == 55920', p), true)
    assert.equal(matches('max(tcp.srcport, 100) == 100', p), true)
    assert.equal(matches('abs(tcp.srcport) == 80', p), true)
    assert.equal(matches('max(tcp.srcport, tcp.dstport) + 1 == 55921', p), true)
  })

  it('does arithmetic per occurrence, grouped with braces', () => {
    assert.equal(matches('tcp.srcport + 1 == 81', p), true)
    assert.equal(matches('tcp.port + 1 == 55921', p), true)
    assert.equal(matches('tcp.srcport * 2 == 160', p), true)
    assert.equal(matches('tcp.srcport / 3 == 26', p), true, 'integer division')
    assert.equal(matches('tcp.srcport % 3 == 2', p), true)
    assert.equal(matches('tcp.srcport / 0 == 1', p), false, 'division by zero gives no value')
    assert.equal(matches('tcp.srcport == {80 * 1}', p), true)
    assert.equal(matches('{tcp.srcport} == 80', p), true)
    assert.equal(matches('tcp.dstport - tcp.srcport == 55840', p), true)
    assert.equal(matches('-tcp.srcport == -80', p), true)
    assert.equal(matches('-tcp.srcport < 0', p), true)
  })

  it('tests a bare arithmetic result for non-zero', () => {
    assert.equal(matches('tcp.srcport - 80', p), false)
    assert.equal(matches('tcp.srcport - 79', p), true)
  })

  it('bitwise & on numbers, addresses and bytes; below + in precedence', () => {
    assert.equal(matches('tcp.flags & 0x02', p), true)
    assert.equal(matches('tcp.flags & 0x04', p), false)
    assert.equal(matches('tcp.flags bitwise_and 0x10', p), true)
    assert.equal(matches('tcp.flags & 0x12 == 0x12', p), true)
    assert.equal(matches('tcp.flags & 0x02 == 0', p), false)
    assert.equal(matches('tcp.flags & 0x01 + 1 == 2', p), true, '& binds looser than +')
    assert.equal(matches('ip.src & 255.0.0.0 == 127.0.0.0', p), true)
    assert.equal(matches('eth.src[1] & 0a', p), true)
    assert.equal(matches('eth.src[0] & 01', p), false)
    assert.equal(matches('eth.src & 00:10:00:00:00:00', p), true)
    assert.equal(matches('tcp.flags & tcp.flags', tcpPacket()), true)
  })
})
