/**
 * `contains` (byte substring, case-sensitive) and `matches` / `~` (regular expression,
 * case-insensitive by default in 4.0, `(?-i)` makes it case-sensitive) on strings, bytes,
 * Ethernet addresses and protocols.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matches, packet } from './packets.js'

describe('display filter contains and matches', () => {
  const p = packet()
    .proto('tcp', 'GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    .proto('http').bytes('http.request.method', 'GET').bytes('http.request.uri', '/index.html')
    .bytes('tcp.options', [2, 4, 0x40, 0x0c, 1, 1])
    .bytes('eth.src', [0, 0x11, 0x22, 0x33, 0x44, 0x55])
    .build()

  it('contains finds byte substrings, case-sensitively', () => {
    assert.equal(matches('tcp contains "GET"', p), true)
    assert.equal(matches('tcp contains 47:45:54', p), true)
    assert.equal(matches('http.request.method contains "GE"', p), true)
    assert.equal(matches('http.request.method contains "ge"', p), false)
    assert.equal(matches('tcp.options contains 40:0c', p), true)
    assert.equal(matches('eth.src contains 33:44', p), true)
    assert.equal(matches('http.request.uri contains http.request.method', p), false)
    assert.equal(matches('http.request.uri contains ".html"', p), true)
  })

  it('matches is case-insensitive unless (?-i)', () => {
    assert.equal(matches('http.request.method matches "get"', p), true)
    assert.equal(matches('http.request.method ~ "^G.T$"', p), true)
    assert.equal(matches('http.request.method matches "(?-i)get"', p), false)
    assert.equal(matches('http.request.method matches "(?-i)GET"', p), true)
    assert.equal(matches('tcp matches "host: X"', p), true)
    assert.equal(matches('http.request.uri matches "\\\\.html$"', p), true)
  })

  it('rewrites the PCRE-only anchors and named groups', () => {
    assert.equal(matches('http.request.method matches "\\\\AGET\\\\z"', p), true)
    assert.equal(matches('http.request.method matches "\\\\AGE\\\\z"', p), false)
    assert.equal(matches('http.request.method matches "(?P<m>G)ET"', p), true)
    assert.equal(matches('http.request.method matches "\\x47"', p), true, 'the string escape gives the byte G')
  })

  it('matches bytes byte for byte', () => {
    assert.equal(matches('tcp.options matches "\\x40\\x0c"', p), true)
    assert.equal(matches('tcp matches "\\r\\n\\r\\n$"', p), true)
  })
})
