// InfoLine writes the same text String()/toString(16)/the address formatters make, and grows
// past its first buffer; FlowTable finds values by endpoint bytes in the order it was given them.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { InfoLine } from '../../src/dissect/info-line.js'
import { ipv6Text } from '../../src/dissect/field-types.js'
import { FlowTable } from '../../src/stream/flow-table.js'
import { putJsonString } from '../../src/format/ndjson-line.js'

test('dec, hex and the address writers print what String() and the formatters print', () => {
  const numbers = [0, 7, 9, 10, 99, 100, 65535, 99999, 100000, 4294967295, 4294967296, 2 ** 53 - 1, -1, -42, 1.5, NaN]
  for (let i = 0; i < 2000; i++) numbers.push(Math.floor(Math.random() * 2 ** (1 + (i % 53))))
  for (const n of numbers) {
    const line = new InfoLine()
    assert.equal(line.dec(n).toString(), String(n))
  }
  for (const [n, digits] of [[0, 1], [0x800, 4], [0xdeadbeef, 1], [5, 2], [0x86dd, 4]] as const) {
    assert.equal(new InfoLine().hex(n, digits).toString(), n.toString(16).padStart(digits, '0'))
  }
  const bytes = Buffer.from([0, 9, 10, 99, 100, 255, 1, 2, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
  assert.equal(new InfoLine().ipv4(bytes, 0).toString(), '0.9.10.99')
  assert.equal(new InfoLine().ipv4(bytes, 4).toString(), '100.255.1.2')
  assert.equal(new InfoLine().ether(bytes, 2).toString(), '0a:63:64:ff:01:02')
  assert.equal(new InfoLine().address(bytes, 8, 16).toString(), ipv6Text(bytes, 8))
  assert.equal(new InfoLine().address(bytes, 8, 0).toString(), '')
})

test('text and latin1 bytes come out as UTF-8, and the line grows as needed', () => {
  const line = new InfoLine()
  line.text('GET /caf').latin1(Buffer.from([0xe9, 0x20, 0x41]), 0, 3).text(' é ✓')
  assert.equal(line.toString(), 'GET /café A é ✓')
  const long = new InfoLine()
  for (let i = 0; i < 5000; i++) long.text('abc').dec(i).char(0x2c)
  let want = ''
  for (let i = 0; i < 5000; i++) want += `abc${i},`
  assert.equal(long.toString(), want)
})

test('FlowTable: values by endpoint pair, in the given order, IPv4 and IPv6, past rehashing', () => {
  const t = new FlowTable<number>()
  const data = Buffer.alloc(64)
  const v4a = 0, v4b = 4, v6a = 16, v6b = 32
  data.set([10, 0, 0, 1, 10, 0, 0, 2], 0)
  data.fill(0x20, 16, 32)
  data.fill(0x20, 32, 48)
  data[47] = 1
  for (let port = 0; port < 3000; port++) t.set(data, v4a, v4b, 4, port, 80, port)
  assert.equal(t.size, 3000)
  for (let port = 0; port < 3000; port++) assert.equal(t.get(data, v4a, v4b, 4, port, 80), port)
  assert.equal(t.get(data, v4b, v4a, 4, 80, 5), undefined, 'the reverse order is another key')
  t.set(data, v6a, v6b, 16, 1, 2, -1)
  assert.equal(t.get(data, v6a, v6b, 16, 1, 2), -1)
  assert.equal(t.get(data, v6b, v6a, 16, 1, 2), undefined)
  t.set(data, v4a, v4b, 4, 7, 80, 70)
  assert.equal(t.get(data, v4a, v4b, 4, 7, 80), 70)
  assert.equal(t.size, 3001)
  t.clear()
  assert.equal(t.get(data, v4a, v4b, 4, 7, 80), undefined)
})

test('putJsonString writes what JSON.stringify writes', () => {
  const samples = ['', 'plain', 'quote " and \\ back', 'ctl \u0000\u0001\b\t\n\f\r\u001f\u007f', 'é ✓ 𝄞', 'lone \ud800 x \udc00 y \ud83d', 'pair \ud83d\ude00 end']
  for (let i = 0; i < 500; i++) {
    let s = ''
    for (let j = 0; j < 1 + (i % 40); j++) s += String.fromCharCode([0x22, 0x5c, 0x0a, 0x41, 0xe9, 0xd800, 0xdc00, 0x20ac, Math.floor(Math.random() * 0x10000)][Math.floor(Math.random() * 9)])
    samples.push(s)
  }
  for (const s of samples) {
    const line = new InfoLine()
    putJsonString(line, s)
    assert.equal(line.toString(), JSON.stringify(s), JSON.stringify(s))
  }
})
