// pcapng timestamps in every resolution, including values beyond 2^53 units, and big-endian
// sections: netkit's frame.time_epoch equals tshark's and exact integer arithmetic.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { netkit, needs, tempDir } from '../helpers/cli.js'
import { epb, frame, idb, shb } from '../helpers/capture-builder.js'

/** What frame.time_epoch must be for `ts` units at `unitsPerSec`, by BigInt arithmetic. */
function expected(ts: bigint, unitsPerSec: bigint): string {
  const sec = ts / unitsPerSec
  const ns = ((ts % unitsPerSec) * 1_000_000_000n) / unitsPerSec
  return `${sec}.${ns.toString().padStart(9, '0')}`
}

const cases: Array<{ name: string; tsresol: number; units: bigint; ts: bigint }> = [
  { name: 'microseconds (default)', tsresol: 6, units: 1_000_000n, ts: 1_700_000_000_123_456n },
  { name: 'nanoseconds, beyond 2^53', tsresol: 9, units: 1_000_000_000n, ts: (1n << 60n) + 123_456_789n },
  { name: 'nanoseconds, 2^64 - 1', tsresol: 9, units: 1_000_000_000n, ts: (1n << 64n) - 1n },
  { name: 'milliseconds', tsresol: 3, units: 1000n, ts: 1_700_000_000_999n },
  { name: 'picoseconds', tsresol: 12, units: 1_000_000_000_000n, ts: 17_000_000_123_456_789_012n },
  { name: '2^-10 seconds', tsresol: 0x80 | 10, units: 1024n, ts: 1_700_000_000n * 1024n + 1023n },
  { name: '2^-30 seconds, beyond 2^53', tsresol: 0x80 | 30, units: 1n << 30n, ts: (1_700_000_000n << 30n) + 12345n },
]

for (const c of cases) {
  test(`pcapng timestamp: ${c.name}`, async (t) => {
    const { dir, cleanup } = tempDir()
    t.after(cleanup)
    const file = join(dir, 'ts.pcapng')
    writeFileSync(file, Buffer.concat([shb(), idb(1, 0, c.tsresol), epb(0, c.ts, frame(1))]))
    const r = await netkit(['read', '-r', file, '-T', 'fields', '-e', 'frame.time_epoch'])
    assert.equal(r.code, 0, r.stderr)
    assert.equal(r.stdout.trim(), expected(c.ts, c.units))
    if (!needs('tshark') && c.ts < 1n << 63n) {
      // tshark keeps seconds in a signed 64-bit time_t: compare where it can represent the value.
      const ref = spawnSync('tshark', ['-r', file, '-T', 'fields', '-e', 'frame.time_epoch'], { encoding: 'utf8' })
      assert.equal(r.stdout, ref.stdout)
    }
  })
}

test('sections of both byte orders in one file, interfaces numbered per section', { skip: needs('tshark') }, async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const file = join(dir, 'mixed.pcapng')
  writeFileSync(file, Buffer.concat([
    shb(true), idb(1, 0, 9, true), epb(0, 1_700_000_000_000_000_001n, frame(1), 60, true),
    shb(false), idb(1, 128, undefined, false), idb(101, 0, 9, false), epb(1, 1_700_000_000_000_000_002n, frame(2).subarray(14), 46, false),
    epb(0, 1_700_000_000_000_003n, frame(3), 60, false),
  ]))
  const fields = ['-T', 'fields', '-e', 'frame.number', '-e', 'frame.time_epoch', '-e', 'frame.len', '-e', 'frame.cap_len', '-e', 'frame.interface_id']
  const r = await netkit(['read', '-r', file, ...fields])
  assert.equal(r.code, 0, r.stderr)
  const ref = spawnSync('tshark', ['-r', file, ...fields], { encoding: 'utf8' })
  assert.equal(r.stdout, ref.stdout)
  assert.equal(r.stdout.split('\n').filter(Boolean).length, 3)
})

test('pcapng written by netkit keeps timestamps beyond 2^53 exactly (ns and µs)', async (t) => {
  const { dir, cleanup } = tempDir()
  t.after(cleanup)
  const src = join(dir, 'big.pcapng')
  const ts = 4_000_000_000n * 1_000_000_000n + 999_999_999n // year 2096, ns
  writeFileSync(src, Buffer.concat([shb(), idb(1, 0, 9), epb(0, ts, frame(1))]))
  for (const [extra, want] of [[['--nano'], '4000000000.999999999'], [[], '4000000000.999999000']] as const) {
    const out = join(dir, `out${extra.length}.pcapng`)
    assert.equal((await netkit(['read', '-r', src, '-w', out, '-F', 'pcapng', ...extra])).code, 0)
    const r = await netkit(['read', '-r', out, '-T', 'fields', '-e', 'frame.time_epoch'])
    assert.equal(r.stdout.trim(), want)
  }
})
