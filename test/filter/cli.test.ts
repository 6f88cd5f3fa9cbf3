/**
 * The filter through the real CLI: `netkit filter -d/-dd/-ddd` prints tcpdump's formats,
 * `netkit read -r FILE EXPR` prints and writes only matching packets (numbered as in the file,
 * `-c` counting matches), per link type in a pcapng with several interfaces, and bad
 * expressions give one clean error line with exit status 2.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { FilterSyntaxError } from '../../src/errors.js'
import { compileFilter } from '../../src/filter/index.js'
import { LinkType } from '../../src/pcap/link-types.js'
import { epb, idb, shb } from '../helpers/capture-builder.js'
import { needs, netkit, run, tempDir } from '../helpers/cli.js'
import { libpcapMatches } from './oracle.js'
import { etherRecords, readPcapRecords, sllRecords, writePcap } from './packets.js'

const tmp = tempDir('netkit-filter-cli-')
const ether = join(tmp.dir, 'ether.pcap')
before(() => writePcap(ether, LinkType.EN10MB, etherRecords()))
after(() => tmp.cleanup())

const dLine = /^\(\d{3}\) [a-z]+ +(\S[^\t]*?)?( +jt \d+\tjf \d+)?$/
const ddLine = /^\{ 0x[0-9a-f]+, \d+, \d+, 0x[0-9a-f]{8} \},$/
const dddLine = /^\d+ \d+ \d+ \d+$/

test('netkit filter -d, -dd, -ddd print what tcpdump prints', { skip: needs('tcpdump') }, async () => {
  // Expressions whose programs are the same as libpcap's: the text must be identical.
  for (const [flags, expr] of [[['-d'], 'tcp[tcpflags] & tcp-syn != 0'], [['-dd'], 'vlan 100'], [['-ddd'], 'ether broadcast'], [['-d', '-d'], 'len > 100']] as const) {
    const mine = await netkit(['filter', ...flags, expr])
    const theirs = await run('tcpdump', [...flags, expr])
    assert.equal(mine.code, 0, mine.stderr)
    assert.equal(mine.stdout, theirs.stdout, `${flags.join(' ')} ${expr}`)
  }
  // Any expression: the same line shapes, and -ddd's first line is the count.
  const expr = 'tcp port 80 or udp and not host 10.0.0.1 or ip[8] * 2 > ip[9]'
  const [d, dd, ddd] = await Promise.all([netkit(['filter', '-d', expr]), netkit(['filter', '-dd', expr]), netkit(['filter', '-ddd', expr])])
  const lines = (s: string): string[] => s.trimEnd().split('\n')
  for (const l of lines(d.stdout)) assert.match(l, dLine)
  for (const l of lines((await run('tcpdump', ['-d', expr])).stdout)) assert.match(l, dLine)
  for (const l of lines(dd.stdout)) assert.match(l, ddLine)
  const decimal = lines(ddd.stdout)
  assert.equal(Number(decimal[0]), decimal.length - 1)
  assert.equal(decimal.length - 1, lines(d.stdout).length)
  for (const l of decimal.slice(1)) assert.match(l, dddLine)
})

test('netkit read -r FILE EXPR: -c counts matches, numbers are the file\'s, -w writes only matches', { skip: needs('tcpdump', 'python3') }, async () => {
  // Repeated words (oclif's argv would reorder them; the raw tokens keep the order).
  const expr = 'tcp port 80 or tcp port 22 or icmp6'
  const [want] = libpcapMatches(ether, [expr])
  assert.ok(want && want.length > 6)
  const printed = await netkit(['read', '-r', ether, '-c', '5', '-T', 'fields', '-e', 'frame.number', ...expr.split(' ')])
  assert.equal(printed.code, 0, printed.stderr)
  assert.deepEqual(printed.stdout.trim().split('\n').map(Number), want.slice(0, 5))
  // -w: the same records tcpdump writes for the expression, byte for byte.
  const mine = join(tmp.dir, 'mine.pcap')
  const theirs = join(tmp.dir, 'theirs.pcap')
  const w = await netkit(['read', '-r', ether, '-w', mine, 'tcp', 'port', '80'])
  assert.equal(w.code, 0, w.stderr)
  const t = await run('tcpdump', ['-r', ether, '-w', theirs, 'tcp port 80'])
  assert.equal(t.code, 0, t.stderr)
  const a = readPcapRecords(readFileSync(mine)).recs
  const b = readPcapRecords(readFileSync(theirs)).recs
  assert.ok(b.length >= 4)
  assert.deepEqual(a.map((r) => r.data.toString('hex')), b.map((r) => r.data.toString('hex')))
})

test('a pcapng with Ethernet and Linux cooked interfaces is filtered per link type', { skip: needs('python3', 'tcpdump') }, async () => {
  const e = etherRecords().slice(0, 30)
  const s = sllRecords().slice(0, 30)
  const blocks = [shb(), idb(LinkType.EN10MB, 262144), idb(LinkType.LINUX_SLL, 262144)]
  const order: [number, number][] = [] // [interface, index in its list]
  for (let i = 0; i < 30; i++) { order.push([0, i]); order.push([1, i]) }
  order.forEach(([iface, i], n) => { const r = iface === 0 ? e[i] : s[i]; blocks.push(epb(iface, BigInt(n + 1) * 1_000_000n, r.data, r.origLen)) })
  const file = join(tmp.dir, 'mixed.pcapng')
  writeFileSync(file, Buffer.concat(blocks))
  const eFile = join(tmp.dir, 'e.pcap')
  const sFile = join(tmp.dir, 's.pcap')
  writePcap(eFile, LinkType.EN10MB, e)
  writePcap(sFile, LinkType.LINUX_SLL, s)
  const expr = 'udp port 53 or icmp'
  const [eHits] = libpcapMatches(eFile, [expr])
  const [sHits] = libpcapMatches(sFile, [expr])
  const want = order.map(([iface, i], n) => ((iface === 0 ? eHits! : sHits!).includes(i + 1) ? n + 1 : 0)).filter((n) => n > 0)
  assert.ok(want.length >= 4)
  const r = await netkit(['read', '-r', file, '-T', 'fields', '-e', 'frame.number', expr])
  assert.equal(r.code, 0, r.stderr)
  assert.deepEqual(r.stdout.trim().split('\n').map(Number), want)
})

test('bad expressions: one line `netkit read: filter: <what> at <where>`, exit 2, nothing printed', async () => {
  const bad = ['tcp port', 'tcp[13:3] = 1', 'host 10.0.0.1 or (', 'port 99999', 'tcp and @', 'net 10.0.0.1/8', 'ip[10-2] = 1']
  const results = await Promise.all(bad.map((e) => netkit(['read', '-r', ether, ...e.split(' ')])))
  results.forEach((r, i) => {
    assert.equal(r.code, 2, bad[i])
    assert.equal(r.stdout, '', bad[i])
    assert.match(r.stderr, /^netkit read: filter: [^\n]+ at (offset \d+ \('[^\n]*'\)|end of expression)\n$/, bad[i])
  })
  const f = await netkit(['filter', 'src', 'host'])
  assert.equal(f.code, 2)
  assert.match(f.stderr, /^netkit filter: filter: [^\n]+ at end of expression\n$/)
})

test('hostile expressions only ever raise FilterSyntaxError with a location', () => {
  // Random sequences of filter words, operators and junk: each compiles or fails cleanly.
  const words = ['tcp', 'udp', 'ip', 'ip6', 'host', 'net', 'port', 'portrange', 'src', 'dst', 'and', 'or', 'not', '(', ')', '[', ']', ':', '1', '2',
    '4', '0x10', '10.0.0.1', '::1', '00:11:22:33:44:55', '/', '24', 'mask', '-', '+', '*', '&', '|', '=', '!=', '>', 'len', 'vlan', 'less',
    'greater', 'proto', '\\tcp', 'ether', 'broadcast', 'multicast', 'inbound', 'tcpflags', 'tcp-syn', 'foo', '!', '$', '"', '08', '99999999999']
  let seed = 12345
  const rand = (n: number): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return (seed >>> 8) % n }
  let compiled = 0
  for (let i = 0; i < 3000; i++) {
    const expr = Array.from({ length: 1 + rand(8) }, () => words[rand(words.length)]).join(' ')
    try {
      const p = compileFilter(expr, { linkType: LinkType.EN10MB })
      assert.ok(p.program.length >= 1 && p.program.length <= 4096)
      compiled++
    } catch (err) {
      assert.ok(err instanceof FilterSyntaxError, `${expr}: ${String(err)}`)
      assert.match(err.message, /^filter: .+( at (offset \d+ \('.*'\)|end of expression))?$/, expr)
    }
  }
  assert.ok(compiled > 50, `only ${compiled} of the random expressions compiled`)
  // Deep nesting and very long expressions stay errors, not crashes.
  assert.throws(() => compileFilter('('.repeat(5000) + 'tcp' + ')'.repeat(4999), { linkType: LinkType.EN10MB }), FilterSyntaxError)
  assert.throws(() => compileFilter(Array.from({ length: 450 }, (_, i) => `host 10.0.${i >> 8}.${i & 255} and port ${i}`).join(' or '), { linkType: LinkType.EN10MB }), /^FilterSyntaxError: filter: filter too complex/)
})
