/**
 * Runtime values of a compiled display filter: the ValueList each operand fills per packet
 * (numbers, or byte ranges that point into the packet, never copies), and the comparisons
 * Wireshark 4.0's ftypes define for each type. Nothing here allocates per packet once the lists
 * have grown to the packet's occurrence count.
 */
import type { FieldType } from '../dissect/field-types.js'

/** The type of a value in a filter: a field type (slices are 'bytes'). */
export type ValueType = FieldType

/** Netkit type names as Wireshark's messages describe the kinds of value. */
export const TYPE_NAMES: Record<ValueType, string> = {
  uint: 'Unsigned integer', int: 'Signed integer', bool: 'Boolean', double: 'Floating point',
  string: 'Character string', bytes: 'Sequence of bytes', ipv4: 'IPv4 address', ipv6: 'IPv6 address',
  ether: 'Ethernet or other MAC address', none: 'Protocol',
}

/** Whether values of type `t` are numbers (in ValueList.num) rather than bytes. */
export function isNumeric(t: ValueType): boolean {
  return t === 'uint' || t === 'int' || t === 'bool' || t === 'double'
}

/** Types whose values are byte sequences that `contains` and slices work on (FT_BYTES family). */
export function isByteSequence(t: ValueType): boolean {
  return t === 'string' || t === 'bytes' || t === 'ether' || t === 'none'
}

/**
 * The values of one operand for the current packet: entry i is the number num[i], or the bytes
 * buf[i][off[i], off[i] + len[i]). `bits` is the prefix length of address literals (-1: whole).
 */
export class ValueList {
  n = 0
  num = new Float64Array(8)
  buf: Buffer[] = []
  off = new Int32Array(8)
  len = new Int32Array(8)
  bits = new Int32Array(8).fill(-1)

  /** Appends a number. */
  pushNum(v: number): void {
    if (this.n === this.num.length) this.grow()
    this.num[this.n++] = v
  }

  /** Appends the bytes b[off, off + len). */
  pushBytes(b: Buffer, off: number, len: number, bits = -1): void {
    if (this.n === this.num.length) this.grow()
    const i = this.n++
    this.buf[i] = b
    this.off[i] = off
    this.len[i] = len
    this.bits[i] = bits
  }

  private grow(): void {
    const n = this.num.length * 2
    const num = new Float64Array(n); num.set(this.num); this.num = num
    const off = new Int32Array(n); off.set(this.off); this.off = off
    const len = new Int32Array(n); len.set(this.len); this.len = len
    const bits = new Int32Array(n).fill(-1); bits.set(this.bits); this.bits = bits
  }
}

/**
 * Scratch bytes an operand writes computed values into (lower(), multi-range slices), reused for
 * every packet. When it must grow, it starts a new buffer: values already written keep theirs.
 */
export class Arena {
  buf = Buffer.alloc(256)
  pos = 0

  /** Reserves n bytes in `this.buf` and returns their offset. */
  take(n: number): number {
    if (this.pos + n > this.buf.length) {
      this.buf = Buffer.alloc(Math.max(this.buf.length * 2, n * 2))
      this.pos = 0
    }
    const at = this.pos
    this.pos += n
    return at
  }
}

const textCache = new Map<string, Buffer>()

/**
 * The UTF-8 bytes of a text occurrence (fields recorded with setText). Kept in a small cache, as
 * text occurrences repeat (header values) and are rare on hot paths.
 */
export function textBytes(s: string): Buffer {
  let b = textCache.get(s)
  if (b === undefined) {
    if (textCache.size >= 4096) textCache.clear()
    textCache.set(s, (b = Buffer.from(s, 'utf8')))
  }
  return b
}

/** A comparison of entry i of `a` with entry j of `b`. */
export type Cmp = (a: ValueList, i: number, b: ValueList, j: number) => number

function numOrder(a: ValueList, i: number, b: ValueList, j: number): number {
  const x = a.num[i]
  const y = b.num[j]
  return x < y ? -1 : x > y ? 1 : x === y ? 0 : NaN
}

/** Lexicographic byte order (strings: a proper prefix sorts first). */
function lexOrder(a: ValueList, i: number, b: ValueList, j: number): number {
  const ab = a.buf[i], bb = b.buf[j], ao = a.off[i], bo = b.off[j], al = a.len[i], bl = b.len[j]
  const n = al < bl ? al : bl
  for (let k = 0; k < n; k++) {
    const d = ab[ao + k] - bb[bo + k]
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return al === bl ? 0 : al < bl ? -1 : 1
}

/** FT_BYTES order: a longer sequence is greater; equal lengths compare bytewise. */
function bytesOrder(a: ValueList, i: number, b: ValueList, j: number): number {
  const al = a.len[i], bl = b.len[j]
  if (al !== bl) return al < bl ? -1 : 1
  return lexOrder(a, i, b, j)
}

/** IPv4 order under the shorter of the two prefixes (`ip.src > 10.0.0.0/8` compares networks). */
function ipv4Order(a: ValueList, i: number, b: ValueList, j: number): number {
  const ba = a.bits[i] < 0 ? 32 : a.bits[i]
  const bb = b.bits[j] < 0 ? 32 : b.bits[j]
  const bits = ba < bb ? ba : bb
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0
  const x = (u32(a.buf[i], a.off[i]) & mask) >>> 0
  const y = (u32(b.buf[j], b.off[j]) & mask) >>> 0
  return x < y ? -1 : x > y ? 1 : 0
}

/** IPv6 order under the shorter of the two prefixes. */
function ipv6Order(a: ValueList, i: number, b: ValueList, j: number): number {
  const ba = a.bits[i] < 0 ? 128 : a.bits[i]
  const bb = b.bits[j] < 0 ? 128 : b.bits[j]
  const bits = ba < bb ? ba : bb
  const ab = a.buf[i], bbuf = b.buf[j], ao = a.off[i], bo = b.off[j]
  for (let k = 0; k < 16 && k * 8 < bits; k++) {
    const left = bits - k * 8
    const mask = left >= 8 ? 0xff : (0xff << (8 - left)) & 0xff
    const d = (ab[ao + k] & mask) - (bbuf[bo + k] & mask)
    if (d !== 0) return d < 0 ? -1 : 1
  }
  return 0
}

/** The big-endian 32-bit number at b[o]. */
export function u32(b: Buffer, o: number): number {
  return ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0
}

/** The order of values of type `t` (0 is equality), as Wireshark's ftype compare functions. */
export function orderFor(t: ValueType): Cmp {
  if (isNumeric(t)) return numOrder
  if (t === 'string') return lexOrder
  if (t === 'ipv4') return ipv4Order
  if (t === 'ipv6') return ipv6Order
  return bytesOrder
}

/** Whether entry i of `a` (bytes) contains entry j of `b` (bytes) anywhere. */
export function containsBytes(a: ValueList, i: number, b: ValueList, j: number): boolean {
  const hb = a.buf[i], ho = a.off[i], hl = a.len[i]
  const nb = b.buf[j], no = b.off[j], nl = b.len[j]
  if (nl === 0) return true
  const first = nb[no]
  outer: for (let k = 0; k + nl <= hl; k++) {
    if (hb[ho + k] !== first) continue
    for (let m = 1; m < nl; m++) if (hb[ho + k + m] !== nb[no + m]) continue outer
    return true
  }
  return false
}
