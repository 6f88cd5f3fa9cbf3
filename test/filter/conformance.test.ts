/**
 * Filter conformance against libpcap: netkit's compiler must select exactly the packets libpcap
 * selects, for every expression of test/filter/expressions.txt, on hand-made captures of every
 * supported link type and on every classic pcap of the shared corpus; expressions libpcap
 * rejects, netkit rejects. libpcap is asked through libpcap-matches.py (the library tcpdump
 * filters with, one process per file); a spot check shows it answers exactly as tcpdump does.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { after, before, test } from 'node:test'
import { LinkType } from '../../src/pcap/link-types.js'
import { needs, tempDir } from '../helpers/cli.js'
import { corpusFiles } from '../helpers/corpus.js'
import { disagreements, libpcapMatches, netkitMatches, readExpressions, tcpdumpMatches } from './oracle.js'
import { etherRecords, ipOnlyRecords, pppRecords, readPcapRecords, sll2Records, sllRecords, writePcap, type Rec } from './packets.js'

const exprs = readExpressions(join(import.meta.dirname, 'expressions.txt'))
const skip = needs('tcpdump', 'python3')
const tmp = tempDir('netkit-filter-')
const made: Record<string, string> = {}

before(() => {
  const files: [string, number, Rec[]][] = [
    ['ether.pcap', LinkType.EN10MB, etherRecords()], ['sll.pcap', LinkType.LINUX_SLL, sllRecords()],
    ['sll2.pcap', LinkType.LINUX_SLL2, sll2Records()], ['raw.pcap', LinkType.RAW, ipOnlyRecords('raw')],
    ['null.pcap', LinkType.NULL, ipOnlyRecords('null')], ['loop.pcap', LinkType.LOOP, ipOnlyRecords('loop')],
    ['ppp.pcap', LinkType.PPP, pppRecords()],
  ]
  for (const [name, lt, recs] of files) writePcap(made[name] = join(tmp.dir, name), lt, recs)
})
after(() => tmp.cleanup())

test('the libpcap oracle answers as tcpdump does', { skip }, () => {
  const sample = ['tcp port 80', 'host 10.0.0.1 or 2001:db8::1', 'vlan and udp', 'ether broadcast', 'ip broadcast', 'less 70', 'tcp[13] & 2 != 0', 'ip proto \\udp', 'port', 'vlan 4096']
  const viaLib = libpcapMatches(made['ether.pcap'], sample)
  sample.forEach((e, i) => assert.deepEqual(viaLib[i], tcpdumpMatches(made['ether.pcap'], e), e))
  // And the sample is not vacuous: most expressions match something, two are rejected.
  assert.ok(viaLib.filter((m) => m !== null && m.length > 0).length >= 7)
  assert.equal(viaLib.filter((m) => m === null).length, 2)
})

test('every expression selects what libpcap selects on hand-made captures of each link type', { skip }, async () => {
  const files = Object.values(made)
  const bad = await disagreements(files, exprs)
  assert.deepEqual(bad, [])
  // Guard against a vacuous pass: on Ethernet most expressions match some but not all packets.
  const answers = libpcapMatches(made['ether.pcap'], exprs)
  const total = etherRecords().length
  assert.ok(answers.filter((m) => m !== null && m.length > 0 && m.length < total).length > exprs.length / 2)
  assert.ok(answers.filter((m) => m === null).length > 40)
})

test('every expression selects what libpcap selects on the corpus captures', { skip: skip || (corpusFiles('tcpdump').length === 0 && 'needs the shared corpus') }, async () => {
  // The corpus's classic pcaps, merged into one file per link type (one libpcap process and
  // one compilation per expression and link type instead of per file).
  const byLinkType = new Map<number, Rec[]>()
  for (const f of corpusFiles('tcpdump').filter((n) => n.endsWith('.pcap'))) {
    const { linkType, recs } = readPcapRecords(readFileSync(f))
    byLinkType.set(linkType, [...(byLinkType.get(linkType) ?? []), ...recs])
  }
  const files = [...byLinkType].map(([lt, recs]) => { const p = join(tmp.dir, `corpus-${lt}.pcap`); writePcap(p, lt, recs); return p })
  assert.ok(byLinkType.get(LinkType.EN10MB)!.length > 300)
  const bad = await disagreements(files, exprs)
  assert.deepEqual(bad, [])
})

test('`ip proto udp` (a shell ate the backslash) means ip proto \\udp', async () => {
  const file = join(tmp.dir, 'proto.pcap')
  writePcap(file, LinkType.EN10MB, etherRecords())
  assert.deepEqual(await netkitMatches(file, 'ip proto udp'), await netkitMatches(file, 'ip proto \\udp'))
  assert.ok(((await netkitMatches(file, 'ip proto udp')) as number[]).length > 0)
})

test('the JIT\'s two code shapes (labeled blocks, dispatch loop) give the same verdicts', async () => {
  const { compileFilter } = await import('../../src/filter/index.js')
  const { jit } = await import('../../src/filter/jit.js')
  const recs = etherRecords()
  let compared = 0
  for (const e of exprs) {
    let program
    try { program = compileFilter(e, { linkType: LinkType.EN10MB }).program } catch { continue }
    const blocks = jit(program, 'blocks')
    const dispatch = jit(program, 'dispatch')
    for (const r of recs) assert.equal(blocks(r.data, 0, r.data.length, r.origLen), dispatch(r.data, 0, r.data.length, r.origLen), e)
    compared++
  }
  assert.ok(compared > 200)
})
