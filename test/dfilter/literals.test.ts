/**
 * Literals, typed by the field they are compared with (tshark 4.0.17 checked): integers in
 * decimal, 0x hex, 0 octal and 0b binary; quoted strings with C escapes and raw strings; char
 * constants; bare words as strings; byte strings with `:`, `-`, `.` or none; addresses.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matches, packet, tcpPacket } from './packets.js'

const port80 = () => packet().proto('tcp').num('tcp.srcport', 80).build()
const get = () => packet().proto('http').bytes('http.request.method', 'GET').text('http.host', 'Example.org').build()

describe('display filter literals', () => {
  it('reads integers in decimal, hex, octal and binary', () => {
    const p = port80()
    for (const lit of ['80', '0x50', '0X50', '0120', '0b1010000']) assert.equal(matches(`tcp.srcport == ${lit}`, p), true, lit)
    assert.equal(matches('tcp.srcport == 81', p), false)
  })

  it('gives a negative literal of an unsigned field no value: every comparison is false (4.0)', () => {
    const p = port80()
    assert.equal(matches('tcp.srcport > -1', p), false)
    assert.equal(matches('tcp.srcport == -80', p), false)
    assert.equal(matches('tcp.srcport < -1', p), false)
    assert.equal(matches('tcp.srcport in {-1..100}', p), false)
  })

  it('reads floats for double fields', () => {
    const p = packet().num('frame.time_epoch', 1120622255.938066).build()
    assert.equal(matches('frame.time_epoch > 1120622255', p), true)
    assert.equal(matches('frame.time_epoch > 1120622255.94', p), false)
    assert.equal(matches('frame.time_epoch >= 1120622255.938066', p), true)
    assert.equal(matches('frame.time_epoch > -1', p), true)
  })

  it('unescapes quoted strings: \\x, octal, \\\\, \\", C escapes; keeps raw strings raw', () => {
    const p = get()
    for (const s of ['"GET"', '"\\x47ET"', '"\\107ET"', '"GE\\124"', 'r"GET"', 'R"GET"']) assert.equal(matches(`http.request.method == ${s}`, p), true, s)
    assert.equal(matches('http.request.method == "GE\\x5"', p), false)
    const q = packet().bytes('http.request.uri', 'a"b\\c\t\n\x00').build()
    assert.equal(matches('http.request.uri == "a\\"b\\\\c\\t\\n\\0"', q), true)
    assert.equal(matches('http.request.uri contains r"b\\c"', q), true)
  })

  it('takes a bare word as a string for string fields, and the word is not a byte string there', () => {
    const p = get()
    assert.equal(matches('http.request.method == GET', p), true)
    assert.equal(matches('http.request.method == 47:45:54', p), false)
    assert.equal(matches('http.request.method in {GET, POST}', p), true)
  })

  it('compares text occurrences as their UTF-8 bytes', () => {
    const p = get()
    assert.equal(matches('http.host == "Example.org"', p), true)
    assert.equal(matches('http.host contains "ple"', p), true)
    const u = packet().text('http.host', 'é.example').build()
    assert.equal(matches('http.host == "\\u00e9.example"', u), true)
    assert.equal(matches('http.host[0:2] == c3:a9', u), true)
  })

  it('reads char constants as a number or one byte', () => {
    const p = packet().proto('tcp').num('tcp.srcport', 71).bytes('http.request.method', 'GET').build()
    assert.equal(matches("tcp.srcport == 'G'", p), true)
    assert.equal(matches("http.request.method contains 'G'", p), true)
    assert.equal(matches("http.request.method contains '\\x47'", p), true)
    assert.equal(matches("http.request.method contains '\\107'", p), true)
    assert.equal(matches("http.request.method == 'G'", p), false)
  })

  it('reads byte strings with :, -, . or no separators, and 0xNN as one byte', () => {
    const p = packet().proto('eth', [0x08, 0x00, 0x45, 0x00, 0x01, 0x06]).build()
    for (const lit of ['08:00', '08-00', '0800', '08.00', '080']) assert.equal(matches(`eth[0:2] == ${lit}`, p), true, lit)
    assert.equal(matches('eth[2:2] == 450', p), true, 'hex_str_to_bytes reads 450 as 45:00')
    assert.equal(matches('eth[2] == 0x45', p), true)
    assert.equal(matches('eth[2] == 45', p), true, 'a byte literal is hex')
    assert.equal(matches('eth[2] == 69', p), false)
    assert.equal(matches('eth[2:4] == 4500.0106', p), true)
    assert.equal(matches('eth[2:2] == "E\\x00"', p), true)
  })

  it('reads IPv4 and IPv6 forms including mapped addresses', () => {
    const v4 = tcpPacket()
    assert.equal(matches('ip.dst == 10.0.0.2', v4), true)
    assert.equal(matches('ip.dst in {10.0.0.1..10.0.0.3}', v4), true)
    const mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 2, 3, 4]
    const p = packet().bytes('ipv6.dst', mapped).build()
    assert.equal(matches('ipv6.dst == ::ffff:1.2.3.4', p), true)
    assert.equal(matches('ipv6.dst == ::ffff:102:304', p), true)
  })
})
