/**
 * The kernel accepts netkit's programs: every expression of the conformance set that compiles
 * for a live link type (EN10MB, LINUX_SLL2; with the ancillary VLAN and packet-type loads) is
 * attached with SO_ATTACH_FILTER by kernel-attach.py, and the kernel must say yes. A broken
 * program is refused, which shows the check can fail.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { test } from 'node:test'
import { FilterSyntaxError } from '../../src/errors.js'
import { compileFilter, type BpfInstruction } from '../../src/filter/index.js'
import { LinkType } from '../../src/pcap/link-types.js'
import { corpus, needs } from '../helpers/cli.js'
import { readExpressions } from './oracle.js'

const attacher = join(import.meta.dirname, 'kernel-attach.py')
const skip = process.platform !== 'linux' ? 'needs Linux (SO_ATTACH_FILTER)' : needs('python3')

/** The kernel's answer (`ok` or `error EINVAL`) for each program. */
function kernelVerdicts(programs: BpfInstruction[][], kind: 'udp' | 'packet' = 'udp'): string[] {
  const input = programs.map((p) => JSON.stringify(p.map((i) => [i.code, i.jt, i.jf, i.k >>> 0]))).join('\n') + '\n'
  const r = spawnSync('python3', [attacher, kind], { input, encoding: 'utf8', maxBuffer: 1 << 26 })
  assert.equal(r.status, 0, r.stderr)
  return r.stdout.trim().split('\n')
}

function expressions(): string[] {
  const own = readExpressions(join(import.meta.dirname, 'expressions.txt'))
  let sample: string[] = []
  try { sample = readExpressions(join(corpus, '..', 'tools', 'filters-sample.txt')) } catch { /* the shared set is optional here */ }
  // A long program: conditional jumps past 255 instructions need `ja` trampolines.
  const long = Array.from({ length: 80 }, (_, i) => `port ${1000 + i}`).join(' or ')
  return [...own, ...sample, long, `${long} and not host 10.0.0.1`]
}

for (const [name, linkType] of [['EN10MB', LinkType.EN10MB], ['LINUX_SLL2', LinkType.LINUX_SLL2]] as const) {
  test(`the kernel accepts every program compiled for live ${name}`, { skip }, () => {
    const programs: BpfInstruction[][] = []
    const names: string[] = []
    for (const e of expressions()) {
      try {
        programs.push(compileFilter(e, { linkType, live: true }).program)
        names.push(e)
      } catch (err) {
        if (!(err instanceof FilterSyntaxError)) throw err
      }
    }
    assert.ok(programs.length > 200, `only ${programs.length} expressions compiled`)
    assert.ok(programs.some((p) => p.length > 300), 'no program long enough to need ja trampolines')
    if (linkType === LinkType.EN10MB) assert.ok(programs.some((p) => p.some((i) => (i.k | 0) < 0 && (i.k | 0) >= -0x1000)), 'no ancillary load in the live programs')
    const verdicts = kernelVerdicts(programs)
    const refused = verdicts.map((v, i) => (v === 'ok' ? '' : `${names[i]}: ${v}`)).filter((s) => s !== '')
    assert.deepEqual(refused, [])
    assert.equal(verdicts.length, programs.length)
  })
}

test('the kernel refuses a broken program (the check can fail)', { skip }, () => {
  const ret = { code: 0x06, jt: 0, jf: 0, k: 0 }
  const jumpPastEnd = { code: 0x15, jt: 0, jf: 5, k: 1 }
  const badScratch = { code: 0x02, jt: 0, jf: 0, k: 16 }
  assert.deepEqual(kernelVerdicts([[ret], [jumpPastEnd, ret], [badScratch, ret]]), ['ok', 'error EINVAL', 'error EINVAL'])
})
