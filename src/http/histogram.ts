/**
 * LatencyHistogram: an HDR-style log-linear histogram of non-negative integers (microseconds for
 * the load generator). Values below 2048 are counted exactly; above, each power-of-two range is
 * split into 1024 equal sub-buckets, so any recorded value is known to within 1/1024 (~0.1 %).
 * Memory is fixed (about 23.5 K counters) whatever the number of samples, as in HdrHistogram
 * (see: http://hdrhistogram.org, "significant value digits" = 3).
 */

const SUB_BITS = 10
const SUB_COUNT = 1 << SUB_BITS // 1024 sub-buckets per power of two
const EXACT = SUB_COUNT * 2 // values below this are their own bucket
const MAX_SHIFT = 32 - SUB_BITS - 1 // largest shift for a 32-bit value
const SLOTS = EXACT + MAX_SHIFT * SUB_COUNT
const MAX_VALUE = 0xffffffff

/** A fixed-size latency histogram with 3 significant digits. */
export class LatencyHistogram {
  private readonly counts = new Float64Array(SLOTS)
  /** Number of recorded values. */
  total = 0
  /** Exact smallest and largest recorded values. */
  min = Infinity
  max = 0
  private sum = 0

  /** Records one value (rounded down to an integer, clamped to 0..2^32-1). */
  record(value: number): void {
    this.recordMany(value, 1)
  }

  /** Records `count` occurrences of a value. */
  recordMany(value: number, count: number): void {
    let v = value > 0 ? Math.floor(value) : 0
    if (v > MAX_VALUE) v = MAX_VALUE
    this.counts[slotOf(v)] += count
    this.total += count
    this.sum += v * count
    if (v < this.min) this.min = v
    if (v > this.max) this.max = v
  }

  /** Adds every sample of another histogram to this one. */
  merge(other: LatencyHistogram): void {
    for (let i = 0; i < SLOTS; i++) this.counts[i] += other.counts[i]
    this.total += other.total
    this.sum += other.sum
    if (other.min < this.min) this.min = other.min
    if (other.max > this.max) this.max = other.max
  }

  /** The arithmetic mean of the recorded values (0 when empty). */
  mean(): number {
    return this.total === 0 ? 0 : this.sum / this.total
  }

  /**
   * The value at percentile `p` (0..100): the smallest bucket whose cumulative count reaches
   * ceil(p% of the samples), reported as the bucket's midpoint and never above the exact max.
   */
  percentile(p: number): number {
    if (this.total === 0) return 0
    const rank = Math.max(1, Math.ceil((p / 100) * this.total))
    let seen = 0
    for (let i = 0; i < SLOTS; i++) {
      seen += this.counts[i]
      if (seen >= rank) return Math.min(this.max, Math.max(this.min, midpointOf(i)))
    }
    return this.max
  }
}

/** The slot of an integer value. */
function slotOf(v: number): number {
  if (v < EXACT) return v
  const shift = 31 - Math.clz32(v) - SUB_BITS // >= 1 here
  const sub = v >>> shift // in [SUB_COUNT, 2*SUB_COUNT)
  return EXACT + (shift - 1) * SUB_COUNT + (sub - SUB_COUNT)
}

/** The middle of the value range a slot stands for. */
function midpointOf(slot: number): number {
  if (slot < EXACT) return slot
  const shift = Math.floor((slot - EXACT) / SUB_COUNT) + 1
  const sub = ((slot - EXACT) % SUB_COUNT) + SUB_COUNT
  const low = sub * 2 ** shift
  return low + Math.floor((2 ** shift - 1) / 2)
}
