/**
 * FlowTable: values kept per pair of endpoints (address and port, twice), found from the
 * packet's bytes without making a key string or any other object per lookup. The caller puts
 * the endpoints in the order it wants the key to have (tcpdump's "lower port first", say); the
 * table compares them exactly. Keys hash with a random per-table key, so crafted addresses
 * cannot pile every flow into one chain.
 */
import { createRequire } from 'node:module'

/** node:crypto, loaded when the first table is made (a run that keeps no flows need not load it). */
let crypto: typeof import('node:crypto') | undefined

/** A random 128-bit hash key. */
function randomSeed(): Uint32Array {
  crypto ??= createRequire(import.meta.url)('node:crypto') as typeof import('node:crypto')
  return new Uint32Array(crypto.randomBytes(16).buffer)
}

interface Entry<T> {
  /** Address words (4 each, IPv4 in the first) and ports with the address length: 10 words. */
  key: Uint32Array
  value: T
  chain: Entry<T> | undefined
}

/** A map from endpoint pairs to values. */
export class FlowTable<T> {
  /** Chains by hash & mask; doubled when there are more entries than buckets. */
  private buckets: Array<Entry<T> | undefined> = new Array(64).fill(undefined)
  private mask = 63
  private readonly words = new Uint32Array(10)
  private readonly seed: Uint32Array = randomSeed()
  private entries = 0

  /** Number of endpoint pairs held. */
  get size(): number {
    return this.entries
  }

  /**
   * The value for endpoints (data[aOff, aOff + addrLen), aPort) and (data[bOff, ...), bPort),
   * in that order; addrLen is 4 or 16.
   */
  get(data: Uint8Array, aOff: number, bOff: number, addrLen: number, aPort: number, bPort: number): T | undefined {
    const w = this.fill(data, aOff, bOff, addrLen, aPort, bPort)
    let e = this.buckets[this.hash(w) & this.mask]
    while (e !== undefined && !sameEndpointWords(e.key, w)) e = e.chain
    return e?.value
  }

  /**
   * Sets the value for the endpoints (as get() takes them). Returns the key words the table
   * keeps for them (the same array for as long as the pair is held): deleteKey() takes it.
   */
  set(data: Uint8Array, aOff: number, bOff: number, addrLen: number, aPort: number, bPort: number, value: T): Uint32Array {
    return this.setKey(this.fill(data, aOff, bOff, addrLen, aPort, bPort), value)
  }

  /**
   * Sets the value for the pair with these key words (as set() returned them, possibly from
   * another table). Returns the key words this table keeps for the pair.
   */
  setKey(w: Uint32Array, value: T): Uint32Array {
    const b = this.hash(w) & this.mask
    const head = this.buckets[b]
    for (let e = head; e !== undefined; e = e.chain) {
      if (sameEndpointWords(e.key, w)) {
        e.value = value
        return e.key
      }
    }
    const key = Uint32Array.from(w)
    this.buckets[b] = { key, value, chain: head }
    if (++this.entries > this.buckets.length) this.rehash(this.buckets.length * 2)
    return key
  }

  /**
   * Forgets the pair with these key words (as set() returned them), but only while it holds
   * `value`: a pair that has since been given another value keeps it. True when it was removed.
   */
  deleteKey(key: Uint32Array, value: T): boolean {
    const b = this.hash(key) & this.mask
    let prev: Entry<T> | undefined
    for (let e = this.buckets[b]; e !== undefined; prev = e, e = e.chain) {
      if (!sameEndpointWords(e.key, key)) continue
      if (e.value !== value) return false
      if (prev === undefined) this.buckets[b] = e.chain
      else prev.chain = e.chain
      this.entries--
      return true
    }
    return false
  }

  /** Every value held (in no particular order). */
  *values(): IterableIterator<T> {
    for (let e of this.buckets) for (; e !== undefined; e = e.chain) yield e.value
  }

  /** Forgets every pair whose value `drop` returns true for; returns how many. */
  deleteWhere(drop: (value: T) => boolean): number {
    let n = 0
    const buckets = this.buckets
    for (let b = 0; b < buckets.length; b++) {
      let prev: Entry<T> | undefined
      for (let e = buckets[b]; e !== undefined; e = e.chain) {
        if (!drop(e.value)) { prev = e; continue }
        if (prev === undefined) buckets[b] = e.chain
        else prev.chain = e.chain
        n++
      }
    }
    this.entries -= n
    return n
  }

  /** Forgets the endpoints' value (as get() takes them); true when there was one. */
  delete(data: Uint8Array, aOff: number, bOff: number, addrLen: number, aPort: number, bPort: number): boolean {
    const w = this.fill(data, aOff, bOff, addrLen, aPort, bPort)
    const b = this.hash(w) & this.mask
    let prev: Entry<T> | undefined
    for (let e = this.buckets[b]; e !== undefined; prev = e, e = e.chain) {
      if (!sameEndpointWords(e.key, w)) continue
      if (prev === undefined) this.buckets[b] = e.chain
      else prev.chain = e.chain
      this.entries--
      return true
    }
    return false
  }

  /** Forgets every pair. */
  clear(): void {
    this.buckets = new Array(64).fill(undefined)
    this.mask = 63
    this.entries = 0
  }

  private rehash(size: number): void {
    const old = this.buckets
    this.buckets = new Array(size).fill(undefined)
    this.mask = size - 1
    for (let head of old) {
      while (head !== undefined) {
        const next = head.chain
        const b = this.hash(head.key) & this.mask
        head.chain = this.buckets[b]
        this.buckets[b] = head
        head = next
      }
    }
  }

  private fill(data: Uint8Array, aOff: number, bOff: number, addrLen: number, aPort: number, bPort: number): Uint32Array {
    const w = this.words
    const n = addrLen >>> 2
    for (let i = 0; i < 4; i++) {
      if (i < n) {
        const a = aOff + i * 4
        const b = bOff + i * 4
        w[i] = ((data[a] << 24) | (data[a + 1] << 16) | (data[a + 2] << 8) | data[a + 3]) >>> 0
        w[5 + i] = ((data[b] << 24) | (data[b + 1] << 16) | (data[b + 2] << 8) | data[b + 3]) >>> 0
      } else {
        w[i] = 0
        w[5 + i] = 0
      }
    }
    w[4] = (aPort | (addrLen << 16)) >>> 0
    w[9] = bPort >>> 0
    return w
  }

  private hash(w: Uint32Array): number {
    return hashEndpointWords(w, this.seed)
  }
}

/**
 * When a table that forgets idle entries looks for them: at most once per `calls` calls and per
 * `interval` seconds of capture time, so its walk over every entry costs O(1) a packet
 * amortised, whatever the timestamps do (a NaN time never sweeps).
 */
export class SweepSchedule {
  private at = -Infinity
  private count = 0
  constructor(private readonly interval: number, private readonly calls = 4096) {}

  /** Whether to sweep now, at capture time `time` (seconds). */
  due(time: number): boolean {
    if (++this.count < this.calls || !(time >= this.at)) return false
    this.count = 0
    this.at = time + this.interval
    return true
  }
}

/**
 * A keyed 32-bit hash of ten endpoint key words (4 address words and a port word, twice): one
 * multiply-xorshift round a word (the zero words of IPv4 addresses included, they are cheap)
 * and a final mix, with a table's random 4-word seed.
 */
export function hashEndpointWords(w: Uint32Array, seed: Uint32Array): number {
  let h = seed[0]
  for (let i = 0; i < 10; i++) {
    h = Math.imul(h ^ w[i], 0x9e3779b1)
    h ^= h >>> 16
  }
  h = Math.imul(h ^ seed[1], 0x85ebca77)
  h ^= h >>> 13
  h = Math.imul(h ^ seed[2], 0xc2b2ae3d)
  return (h ^ (h >>> 16) ^ seed[3]) >>> 0
}

/** Whether two ten-word endpoint keys (as hashEndpointWords takes them) are equal. */
export function sameEndpointWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < 10; i++) if (a[i] !== b[i]) return false
  return true
}
