/**
 * Slices (`[i:j]`, `[i-j]`, `[i]`, `[:j]`, `[i:]`, negative offsets, several ranges) on bytes,
 * strings, addresses and protocols, and the layer operator `#n` / `#[ranges]` (tshark 4.0.17:
 * a slice that does not fit the value gives no value).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ip, matches, packet, tcpPacket } from './packets.js'

describe('display filter slices and layers', () => {
  const p = packet().proto('eth', [0, 1, 2, 3, 4, 5, 6, 7]).bytes('http.request.method', 'GET').bytes('ip.src', ip('127.0.0.1')).build()

  it('takes start:length, start-end (inclusive), single bytes, open ends', () => {
    assert.equal(matches('eth[0:2] == 00:01', p), true)
    assert.equal(matches('eth[2-4] == 02:03:04', p), true)
    assert.equal(matches('eth[3] == 03', p), true)
    assert.equal(matches('eth[:2] == 00:01', p), true)
    assert.equal(matches('eth[6:] == 06:07', p), true)
    assert.equal(matches('eth[:] == 00:01:02:03:04:05:06:07', p), true)
  })

  it('counts negative offsets from the end', () => {
    assert.equal(matches('eth[-1] == 07', p), true)
    assert.equal(matches('eth[-2:] == 06:07', p), true)
    assert.equal(matches('eth[-3:2] == 05:06', p), true)
    assert.equal(matches('eth[-3--1] == 05:06:07', p), true)
  })

  it('joins several ranges', () => {
    assert.equal(matches('eth[0,3] == 00:03', p), true)
    assert.equal(matches('eth[0:2,6:] == 00:01:06:07', p), true)
  })

  it('gives no value when the range does not fit', () => {
    assert.equal(matches('eth[8]', p), false)
    assert.equal(matches('eth[7]', p), true)
    assert.equal(matches('eth[6:3]', p), false)
    assert.equal(matches('eth[-9:2]', p), false)
    assert.equal(matches('eth[100000] == 00', p), false)
  })

  it('slices strings and addresses into bytes, and slices slices', () => {
    assert.equal(matches('http.request.method[0] == "G"', p), true)
    assert.equal(matches('http.request.method[0] == 47', p), true)
    assert.equal(matches('http.request.method[1:] == "ET"', p), true)
    assert.equal(matches('ip.src[0] == 7f', p), true)
    assert.equal(matches('ip.src[1-2] == 00:00', p), true)
    assert.equal(matches('eth[0:4][1:2] == 01:02', p), true)
    assert.equal(matches('eth[1:2] contains 02', p), true)
  })

  it('selects occurrences by layer with #n and #[ranges]', () => {
    const q = packet()
      .proto('ip').bytes('ip.addr', ip('10.0.0.1')).bytes('ip.addr', ip('10.0.0.2'))
      .proto('ip').bytes('ip.addr', ip('192.168.0.1')).bytes('ip.addr', ip('192.168.0.2'))
      .build()
    assert.equal(matches('ip.addr#1 == 10.0.0.1', q), true)
    assert.equal(matches('ip.addr#1 == 192.168.0.1', q), false)
    assert.equal(matches('ip.addr#2 == 192.168.0.1', q), true)
    assert.equal(matches('ip.addr #2 == 10.0.0.1', q), false)
    assert.equal(matches('ip.addr#3', q), false)
    assert.equal(matches('ip.addr#0', q), false)
    assert.equal(matches('ip.addr#[-1] == 192.168.0.2', q), true)
    assert.equal(matches('ip.addr#[1-2] == 192.168.0.2', q), true)
    assert.equal(matches('ip.addr#[2:] == 10.0.0.1', q), false)
    assert.equal(matches('ip#2', q), true)
    assert.equal(matches('count(ip.addr#2) == 2', q), true)
    assert.equal(matches('ip.addr#1[0] == 0a', q), true)
    assert.equal(matches('ip.addr#1 in {192.168.0.0/16}', q), false)
  })

  it('slices protocols: their occurrence holds the layer bytes', () => {
    const t = tcpPacket(0x12)
    assert.equal(matches('tcp[13] & 0x02', t), true)
    assert.equal(matches('tcp[13:1] == 12', t), true)
    assert.equal(matches('ip[9] == 06', t), true)
  })
})
