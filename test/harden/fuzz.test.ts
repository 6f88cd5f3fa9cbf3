// A short smoke of every fuzz target (#24), with fixed seeds so CI is repeatable: each target
// runs for 0.6 s. `npm run fuzz -- --seconds 60` runs them for real (README, "Running as root, fuzzing, hostile servers").
import { test } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { compileFilter } from '../../src/filter/index.js'
import { FilterSyntaxError } from '../../src/errors.js'
import { targets } from './fuzz/targets.js'

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
test('fuzz finding: pcap-filter primitives libpcap has and netkit lacks are refused by name, not misparsed', () => {
  for (const expr of ['geneve', 'udp and geneve', 'geneve 5']) {
    assert.throws(() => compileFilter(expr, { linkType: 1 }), (err: unknown) => err instanceof FilterSyntaxError && /not supported by netkit yet/.test(err.message), expr)
  }
  // mpls and pppoes compile now (test/filter/encapsulation.test.ts compares them with libpcap).
  for (const expr of ['mpls', 'mpls 5', 'pppoes 3', 'mpls and tcp']) assert.ok(compileFilter(expr, { linkType: 1 }), expr)
})
