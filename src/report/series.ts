/**
 * Bounded series for reports: whatever the length of the input, what a report embeds stays a
 * few thousand numbers, so a report of a million packets is as light as one of a hundred.
 */

/**
 * Values summed into time bins that double their width when they would exceed `maxBins`:
 * the bin width is the smallest power-of-two multiple of `baseWidth` that covers the span.
 */
export class TimeBins {
  width: number
  /** One Float64Array of sums per named column, bins 0..length-1. */
  readonly columns: Map<string, Float64Array>
  length = 0

  constructor(names: readonly string[], baseWidth: number, readonly maxBins = 1000) {
    this.width = baseWidth
    this.columns = new Map(names.map((n) => [n, new Float64Array(maxBins)]))
  }

  /** Adds `v` to column `name` at time `t` (seconds from the start, t >= 0). */
  add(name: string, t: number, v: number): void {
    let i = Math.floor(t / this.width)
    while (i >= this.maxBins) {
      this.halve()
      i = Math.floor(t / this.width)
    }
    if (i >= this.length) this.length = i + 1
    let col = this.columns.get(name)
    if (col === undefined) this.columns.set(name, col = new Float64Array(this.maxBins))
    col[i] += v
  }

  private halve(): void {
    for (const col of this.columns.values()) {
      for (let i = 0; i < this.maxBins / 2; i++) col[i] = col[2 * i] + col[2 * i + 1]
      col.fill(0, this.maxBins / 2)
    }
    this.width *= 2
    this.length = Math.ceil(this.length / 2)
  }

  /** Bin start times and each column's values (per second when `rate`). */
  export(rate = false): { t: number[]; columns: Record<string, number[]> } {
    const t = Array.from({ length: this.length }, (_, i) => round(i * this.width))
    const columns: Record<string, number[]> = {}
    for (const [k, col] of this.columns) columns[k] = Array.from(col.subarray(0, this.length), (v) => rate ? round(v / this.width) : v)
    return { t, columns }
  }
}

/**
 * Points kept with a bounded count: when full, every other point is dropped and from then on
 * only every 2^k-th offered point is taken, so the kept points stay spread over the whole input.
 */
export class Decimator {
  readonly x: number[] = []
  readonly y: number[] = []
  private stride = 1
  private seen = 0

  constructor(readonly max = 1000) {}

  push(x: number, y: number): void {
    if (this.seen++ % this.stride !== 0) return
    this.x.push(x)
    this.y.push(y)
    if (this.x.length >= this.max) {
      let j = 0
      for (let i = 0; i < this.x.length; i += 2, j++) { this.x[j] = this.x[i]; this.y[j] = this.y[i] }
      this.x.length = this.y.length = j
      this.stride *= 2
    }
  }
}

/**
 * A latency histogram with log-spaced bins (about 2 % wide, 1 µs to 1000 s): small enough to keep
 * one per time bin, exact enough for percentiles on a plot.
 */
export class LogHistogram {
  static readonly BINS = 1100
  readonly counts = new Uint32Array(LogHistogram.BINS)
  total = 0

  static bin(seconds: number): number {
    const us = Math.max(1, seconds * 1e6)
    return Math.min(LogHistogram.BINS - 1, Math.floor(Math.log(us) / Math.log(1.02)))
  }

  static value(bin: number): number {
    return Math.pow(1.02, bin + 0.5) / 1e6
  }

  record(seconds: number): void {
    this.counts[LogHistogram.bin(seconds)]++
    this.total++
  }

  merge(o: LogHistogram): void {
    for (let i = 0; i < LogHistogram.BINS; i++) this.counts[i] += o.counts[i]
    this.total += o.total
  }

  /** The value (seconds) at percentile p (0..100), NaN when empty. */
  percentile(p: number): number {
    if (this.total === 0) return NaN
    const want = Math.max(1, Math.ceil((p / 100) * this.total))
    let c = 0
    for (let i = 0; i < LogHistogram.BINS; i++) {
      c += this.counts[i]
      if (c >= want) return LogHistogram.value(i)
    }
    return LogHistogram.value(LogHistogram.BINS - 1)
  }
}

/**
 * Latency histograms per time bin (bins double in width as in TimeBins), for percentiles over time.
 */
export class LatencyBins {
  width: number
  bins: LogHistogram[] = []

  constructor(baseWidth: number, readonly maxBins = 300) {
    this.width = baseWidth
  }

  record(t: number, seconds: number): void {
    let i = Math.floor(t / this.width)
    while (i >= this.maxBins) {
      const merged: LogHistogram[] = []
      for (let j = 0; j < this.bins.length; j += 2) {
        const a = this.bins[j] ?? new LogHistogram()
        if (this.bins[j + 1]) a.merge(this.bins[j + 1])
        merged.push(a)
      }
      this.bins = merged
      this.width *= 2
      i = Math.floor(t / this.width)
    }
    while (this.bins.length <= i) this.bins.push(new LogHistogram())
    this.bins[i].record(seconds)
  }

  /** Bin times and the given percentiles (ms) per bin (null where a bin is empty). */
  export(percentiles: readonly number[]): { t: number[]; columns: Record<string, Array<number | null>> } {
    const columns: Record<string, Array<number | null>> = {}
    for (const p of percentiles) columns[`p${p}`] = this.bins.map((b) => b.total === 0 ? null : round(b.percentile(p) * 1000))
    return { t: this.bins.map((_, i) => round(i * this.width)), columns }
  }
}

/** The percentile curve of a histogram for an HdrHistogram-style plot: x is 1 / (1 - p). */
export function percentileCurve(percentileOf: (p: number) => number, unitScale = 1): { x: number[]; y: number[] } {
  const x: number[] = []
  const y: number[] = []
  for (let k = 0; k <= 5 * 20; k++) {
    const p = 100 * (1 - Math.pow(10, -k / 20)) // 0 %, ..., 99.999 %
    x.push(round(1 / (1 - p / 100)))
    y.push(round(percentileOf(p) * unitScale))
  }
  return { x, y }
}

/** Six significant digits: enough for a plot, and short in JSON. */
export function round(v: number): number {
  return Number.isFinite(v) ? Number(v.toPrecision(6)) : v
}
