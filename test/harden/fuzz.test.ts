// A short smoke of every fuzz target (#24), with fixed seeds so CI is repeatable: each target
// runs for 0.6 s. `npm run fuzz -- --seconds 60` runs them for real (README, "Running as root, fuzzing, hostile servers").
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compileFilter } from '../../src/filter/index.js'
import { FilterSyntaxError } from '../../src/errors.js'
import { targets } from './fuzz/targets.js'
import { spawnSync } from 'node:child_process'
import { have } from '../helpers/cli.js'

const SMOKE_MS = 600

for (const [i, target] of targets.entries()) {
  test(`fuzz smoke: ${target.name} (${target.what})`, { skip: target.skip?.() ?? false }, async () => {
    const property = await target.property()
    const details = await fc.check(property, { seed: 24_000 + i, numRuns: 100_000, interruptAfterTimeLimit: SMOKE_MS, markInterruptAsFailure: false })
    assert.equal(details.failed, false, details.failed ? `${String(details.errorInstance)}\ncounterexample: ${fc.stringify(details.counterexample)}` : '')
    assert.ok(details.numRuns > 0)
  })
}

// Findings of the fuzzer, kept as regression cases.
test('fuzz finding: the encapsulation primitives compile (once refused by name)', () => {
  // test/filter/encapsulation.test.ts and geneve-protochain.test.ts compare them with libpcap.
  for (const expr of ['mpls', 'mpls 5', 'pppoes 3', 'mpls and tcp', 'geneve', 'udp and geneve', 'geneve 5']) assert.ok(compileFilter(expr, { linkType: 1 }), expr)
})

// --seed -2071355543 --path 414: 'portrange icmp-echo'. The scanner reads icmp-echo as the
// number 8, so libpcap takes it as port 8; netkit looked it up as a service and refused it.
// Beside it, pcap_nametoportrange's rules: a lone name is no range, a name splits at its first '-'.
test('fuzz finding: portrange and port take named constants as numbers, and names as libpcap splits them', () => {
  const program = (e: string): string => JSON.stringify(compileFilter(e, { linkType: 1 }).program)
  assert.equal(program('portrange icmp-echo'), program('portrange 8'))
  assert.equal(program('port tcp-syn'), program('port 2'))
  assert.equal(program('portrange 1-2-3'), program('portrange 1-2'))
  for (const expr of ['portrange http', 'portrange http-https-ssh', 'portrange 0x10-0x20', 'portrange ftp-data']) {
    assert.throws(() => compileFilter(expr, { linkType: 1 }), FilterSyntaxError, expr)
  }
  if (!have('tcpdump')) return
  for (const expr of ['portrange icmp-echo', 'port icmp-echo', 'portrange tcpflags', 'portrange http', 'portrange 80-http', 'portrange http-https-ssh', 'portrange 0x10-0x20', 'portrange 10-0x20', 'portrange 1-2-3', 'tcp portrange 1-2 or http']) {
    let ours = true
    try { compileFilter(expr, { linkType: 1 }) } catch { ours = false }
    assert.equal(ours, spawnSync('tcpdump', ['-d', '-y', 'EN10MB', expr]).status === 0, expr)
  }
})
