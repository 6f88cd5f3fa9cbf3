/**
 * Comparison operators and the occurrence rules of Wireshark 4.0 (checked with tshark 4.0.17 on
 * print-flags.pcap, where tcp.port has two occurrences 80 and 55920): `==` any pair equal, `!=`
 * all pairs different, `!==` any pair different, `===` all pairs equal; a relation is false
 * when a side has no value (`udp.port != 53` does not match a TCP packet).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matches, packet, tcpPacket } from './packets.js'

const ports = (...v: number[]) => packet().proto('tcp').num('tcp.port', ...v).build()

describe('display filter comparisons', () => {
  it('== / eq / any_eq hold when any occurrence matches', () => {
    for (const op of ['==', 'eq', 'any_eq']) {
      assert.equal(matches(`tcp.port ${op} 80`, ports(80, 55920)), true, op)
      assert.equal(matches(`tcp.port ${op} 81`, ports(80, 55920)), false, op)
    }
  })

  it('!= / ne / all_ne hold when every occurrence differs (4.0)', () => {
    for (const op of ['!=', 'ne', 'all_ne']) {
      assert.equal(matches(`tcp.port ${op} 80`, ports(80, 55920)), false, op)
      assert.equal(matches(`tcp.port ${op} 81`, ports(80, 55920)), true, op)
    }
  })

  it('!== / any_ne hold when some occurrence differs', () => {
    assert.equal(matches('tcp.port !== 80', ports(80, 55920)), true)
    assert.equal(matches('tcp.port any_ne 80', ports(80, 80)), false)
  })

  it('=== / all_eq hold when every occurrence equals', () => {
    assert.equal(matches('tcp.port === 80', ports(80, 55920)), false)
    assert.equal(matches('tcp.port all_eq 80', ports(80, 80)), true)
  })

  it('every relation is false when the field is absent, unlike not(==)', () => {
    const p = tcpPacket()
    for (const op of ['==', '!=', '!==', '===', '>', '<']) assert.equal(matches(`udp.port ${op} 53`, p), false, op)
    assert.equal(matches('!(udp.port == 53)', p), true)
  })

  it('orders numbers with > >= < <= and their word forms', () => {
    const p = ports(80, 55920)
    assert.equal(matches('tcp.port > 100', p), true)
    assert.equal(matches('tcp.port gt 60000', p), false)
    assert.equal(matches('tcp.port >= 55920', p), true)
    assert.equal(matches('tcp.port ge 55921', p), false)
    assert.equal(matches('tcp.port < 81', p), true)
    assert.equal(matches('tcp.port lt 80', p), false)
    assert.equal(matches('tcp.port <= 80', p), true)
    assert.equal(matches('tcp.port le 79', p), false)
  })

  it('compares field with field: any pair', () => {
    const p = tcpPacket()
    assert.equal(matches('tcp.srcport == tcp.dstport', p), false)
    assert.equal(matches('tcp.srcport > tcp.dstport', p), true)
    assert.equal(matches('tcp.port == tcp.srcport', p), true)
    assert.equal(matches('tcp.srcport == frame.number', p), false, 'uint fields of different sizes compare')
    assert.equal(matches('ip.src == ip.dst', p), false)
    assert.equal(matches('ip.addr == ip.dst', p), true)
    assert.equal(matches('tcp.srcport != udp.srcport', p), false, 'an absent side makes it false')
  })

  it('orders strings lexicographically and bytes longer-first (FT_BYTES)', () => {
    const p = packet().proto('http').bytes('http.request.method', 'GET').bytes('tcp.options', [1, 1, 8, 10]).build()
    assert.equal(matches('http.request.method > "AAAA"', p), true)
    assert.equal(matches('http.request.method < "GETA"', p), true)
    assert.equal(matches('http.request.method > "GET"', p), false)
    assert.equal(matches('http.request.method >= "GET"', p), true)
    assert.equal(matches('tcp.options > 02', p), true, 'longer bytes are greater')
    assert.equal(matches('tcp.options < 01:01:08:0b', p), true)
  })

  it('compares booleans as 0/1 and any non-zero literal as true', () => {
    const syn = tcpPacket(0x02)
    const ack = tcpPacket(0x10)
    assert.equal(matches('tcp.flags.syn == 1', syn), true)
    assert.equal(matches('tcp.flags.syn == True', syn), true)
    assert.equal(matches('tcp.flags.syn == TRUE', syn), true)
    assert.equal(matches('tcp.flags.syn == 2', syn), true)
    assert.equal(matches('tcp.flags.syn == False', ack), true)
    assert.equal(matches('tcp.flags.syn > 0', ack), false)
    assert.equal(matches('tcp.flags.syn', ack), true, 'a false flag is still present')
    assert.equal(matches('tcp.flags.syn == tcp.flags.ack', ack), false)
  })

  it('compares addresses, with CIDR prefixes in both equality and order', () => {
    const p = tcpPacket()
    assert.equal(matches('ip.src == 10.0.0.1', p), true)
    assert.equal(matches('ip.src == 10.0.0.0/8', p), true)
    assert.equal(matches('ip.src == 10.0.0.1/32', p), true)
    assert.equal(matches('ip.src == 11.0.0.0/8', p), false)
    assert.equal(matches('ip.src != 10.0.0.0/8', p), false)
    assert.equal(matches('ip.src == 0.0.0.0/0', p), true)
    assert.equal(matches('ip.src > 9.255.255.255', p), true)
    assert.equal(matches('ip.src > 10.0.0.0/8', p), false, 'the network is compared, as tshark does')
    assert.equal(matches('ip.src < ip.dst', p), true)
    assert.equal(matches('eth.src == 10:11:12:13:14:15', p), true)
    assert.equal(matches('eth.dst == 00-01-02-03-04-05', p), true)
    assert.equal(matches('eth.dst == 0001.0203.0405', p), true)
    assert.equal(matches('eth.dst == 000102030405', p), true)
  })

  it('compares IPv6 addresses with prefixes', () => {
    const a = [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    const p = packet().proto('ipv6').bytes('ipv6.src', a).bytes('ipv6.addr', a).build()
    assert.equal(matches('ipv6.src == fe80::1', p), true)
    assert.equal(matches('ipv6.src == fe80::/10', p), true)
    assert.equal(matches('ipv6.src == fe80::2', p), false)
    assert.equal(matches('ipv6.src == ::/0', p), true)
    assert.equal(matches('ipv6.addr > ::1', p), true)
    assert.equal(matches('ipv6.src == fe80:0:0:0:0:0:0:1', p), true)
  })
})
