/**
 * LatencyHistogram: percentiles within the histogram's stated precision of the exact ones, on
 * spread-out data, with fixed memory.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { LatencyHistogram } from '../../src/http/histogram.js'

describe('LatencyHistogram', () => {
  it('matches exact percentiles to within 0.1 % over six decades', () => {
    const h = new LatencyHistogram()
    const values: number[] = []
    let x = 12345
    for (let i = 0; i < 200_000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648
      const v = Math.floor(Math.exp((x / 2147483648) * Math.log(5_000_000))) // 1 µs .. 5 s, log-uniform
      values.push(v)
      h.record(v)
    }
    values.sort((a, b) => a - b)
    for (const p of [50, 90, 99, 99.9]) {
      const exact = values[Math.ceil((p / 100) * values.length) - 1]
      const got = h.percentile(p)
      assert.ok(Math.abs(got - exact) <= Math.max(1, exact / 1000), `p${p}: ${got} vs exact ${exact}`)
    }
    assert.equal(h.max, values[values.length - 1])
    assert.equal(h.min, values[0])
    assert.equal(h.total, values.length)
  })

  it('is exact for small values and empty-safe', () => {
    const h = new LatencyHistogram()
    assert.equal(h.percentile(99), 0)
    for (const v of [5, 5, 7, 1000, 2047]) h.record(v)
    assert.equal(h.percentile(50), 7)
    assert.equal(h.percentile(100), 2047)
    assert.equal(h.percentile(0), 5)
  })

  it('merges', () => {
    const a = new LatencyHistogram()
    const b = new LatencyHistogram()
    a.recordMany(100, 3)
    b.recordMany(1_000_000, 1)
    a.merge(b)
    assert.equal(a.total, 4)
    assert.equal(a.percentile(75), 100)
    assert.ok(Math.abs(a.percentile(100) - 1_000_000) <= 1000)
  })
})
