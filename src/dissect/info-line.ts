/**
 * InfoLine: the summary line of `-T text` (tcpdump's one line per packet), built as UTF-8 bytes
 * in one reused buffer. Dissectors write it piece by piece (text, numbers, addresses) so that a
 * line costs no string per packet; the printer copies the bytes into its output chunk.
 */

import { ipv6Text } from './field-types.js'

const HEX_DIGITS = '0123456789abcdef'
/** The character codes of HEX_DIGITS. */
const HEX_CODES = Uint8Array.from(HEX_DIGITS, (c) => c.charCodeAt(0))

/** "00" to "99" as character codes: putUint writes two digits per division. */
const DIGIT_PAIRS = Uint8Array.from({ length: 200 }, (_, i) => 48 + (i & 1 ? (i >> 1) % 10 : Math.floor((i >> 1) / 10)))

/**
 * Writes a non-negative integer in decimal at `p` of `buf` as String(n) does (at most 24 bytes)
 * and returns the new end.
 */
export function putUint(buf: Buffer, p: number, n: number): number {
  if (n >>> 0 === n) {
    const digits = n < 10 ? 1 : n < 100 ? 2 : n < 1000 ? 3 : n < 10000 ? 4 : n < 100000 ? 5 : n < 1000000 ? 6
      : n < 10000000 ? 7 : n < 100000000 ? 8 : n < 1000000000 ? 9 : 10
    let q = p + digits
    // Integer division on 32 bits (the float division and floor cost more), two digits a step.
    while (n >= 100) {
      const t = (n / 100) >>> 0
      const r = (n - t * 100) << 1
      buf[--q] = DIGIT_PAIRS[r + 1]
      buf[--q] = DIGIT_PAIRS[r]
      n = t
    }
    if (n >= 10) {
      buf[--q] = DIGIT_PAIRS[(n << 1) + 1]
      buf[--q] = DIGIT_PAIRS[n << 1]
    } else buf[--q] = 48 + n
    return p + digits
  }
  // Past 2^53 the digit loop would invent digits: String() prints what the value is.
  if (n > Number.MAX_SAFE_INTEGER) return p + buf.write(String(n), p, 'latin1')
  let digits = 1
  for (let t = n; t >= 10; t = Math.floor(t / 10)) digits++
  let q = p + digits
  do {
    const d = n % 10
    buf[--q] = 48 + d
    n = (n - d) / 10
  } while (n > 0)
  return p + digits
}

/** A growable byte line with writers for the pieces summary lines are made of. */
export class InfoLine {
  /** The bytes; [0, pos) is the line so far. */
  buf: Buffer = Buffer.allocUnsafe(1024)
  /** End of the line so far. */
  pos = 0
  /** Where mark() was last called (-1: not in this packet): a layer above may go on from there. */
  marked = -1

  /**
   * Marks the place a layer above may write from instead of after the end (UDP marks the end of
   * "IP a.1 > b.2", so VXLAN's ": VXLAN, ..." replaces ": UDP, length 50"). See DissectContext.infoFromMark.
   */
  mark(): this {
    this.marked = this.pos
    return this
  }

  /** Appends text (UTF-8, as output is). */
  text(s: string): this {
    const n = s.length
    if (this.pos + n > this.buf.length) this.grow(n * 3)
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < n; i++) {
      const c = s.charCodeAt(i)
      if (c >= 0x80) {
        // Not ASCII: the rest goes through the encoder (rare: summary text is ASCII).
        this.pos = p
        this.utf8(s.slice(i))
        return this
      }
      buf[p++] = c
    }
    this.pos = p
    return this
  }

  /** Appends one ASCII character by its code. */
  char(code: number): this {
    if (this.pos + 1 > this.buf.length) this.grow(1)
    this.buf[this.pos++] = code
    return this
  }

  /** Appends a number in decimal, as String(n) writes it. */
  dec(n: number): this {
    if (n >>> 0 === n || (n >= 0 && n === Math.floor(n))) this.pos = putUint(this.room(24), this.pos, n)
    else this.text(String(n))
    return this
  }

  /** Appends an unsigned 32-bit number in lower-case hex, padded to `digits` (no 0x). */
  hex(n: number, digits = 1): this {
    n >>>= 0
    let len = 1
    for (let t = n >>> 4; t !== 0; t >>>= 4) len++
    if (len < digits) len = digits
    if (this.pos + len > this.buf.length) this.grow(len)
    const buf = this.buf
    for (let q = this.pos + len - 1; q >= this.pos; q--) {
      buf[q] = HEX_CODES[n & 15]
      n >>>= 4
    }
    this.pos += len
    return this
  }

  /** Appends data[off, off + n) as two hex digits a byte. */
  hexBytes(data: Uint8Array, off: number, n: number): this {
    if (this.pos + n * 2 > this.buf.length) this.grow(n * 2)
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < n; i++) {
      const b = data[off + i]
      buf[p++] = HEX_CODES[b >> 4]
      buf[p++] = HEX_CODES[b & 15]
    }
    this.pos = p
    return this
  }

  /** Appends the dotted IPv4 address at data[off]. */
  ipv4(data: Uint8Array, off: number): this {
    if (this.pos + 15 > this.buf.length) this.grow(15)
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < 4; i++) {
      if (i > 0) buf[p++] = 0x2e
      const b = data[off + i]
      if (b >= 100) {
        const h = (b / 100) | 0
        const t = ((b - h * 100) / 10) | 0
        buf[p++] = 48 + h
        buf[p++] = 48 + t
        buf[p++] = 48 + b - h * 100 - t * 10
      } else if (b >= 10) {
        const t = (b / 10) | 0
        buf[p++] = 48 + t
        buf[p++] = 48 + b - t * 10
      } else buf[p++] = 48 + b
    }
    this.pos = p
    return this
  }

  /** Appends a network address: dotted IPv4 (len 4) or RFC 5952 IPv6 (len 16); nothing for 0. */
  address(data: Uint8Array, off: number, len: number): this {
    if (len === 4) return this.ipv4(data, off)
    if (len === 16) return this.text(ipv6Text(data as Buffer, off))
    return this
  }

  /** Appends the MAC address at data[off] (`02:00:00:00:00:01`). */
  ether(data: Uint8Array, off: number): this {
    if (this.pos + 17 > this.buf.length) this.grow(17)
    const buf = this.buf
    let p = this.pos
    for (let i = 0; i < 6; i++) {
      if (i > 0) buf[p++] = 0x3a
      const b = data[off + i]
      buf[p++] = HEX_CODES[b >> 4]
      buf[p++] = HEX_CODES[b & 15]
    }
    this.pos = p
    return this
  }

  /**
   * Appends bytes data[from, to) taken as Latin-1 text (each byte one character), encoded as
   * UTF-8: a request line as its bytes, the same text `view.text()` would give.
   */
  latin1(data: Uint8Array, from: number, to: number): this {
    const n = to - from
    if (this.pos + n * 2 > this.buf.length) this.grow(n * 2)
    const buf = this.buf
    let p = this.pos
    for (let i = from; i < to; i++) {
      const b = data[i]
      if (b < 0x80) buf[p++] = b
      else {
        buf[p++] = 0xc0 | (b >> 6)
        buf[p++] = 0x80 | (b & 0x3f)
      }
    }
    this.pos = p
    return this
  }

  /**
   * The buffer, with room for `n` more bytes at `pos`: for writers that put bytes in
   * themselves and then move `pos` on.
   */
  room(n: number): Buffer {
    if (this.pos + n > this.buf.length) this.grow(n)
    return this.buf
  }

  /** The line as a string (tests, and callers that want text). */
  toString(): string {
    return this.buf.toString('utf8', 0, this.pos)
  }

  private utf8(s: string): void {
    const need = Buffer.byteLength(s)
    if (this.pos + need > this.buf.length) this.grow(need)
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }

  private grow(extra: number): void {
    let size = this.buf.length * 2
    while (size < this.pos + extra) size *= 2
    const next = Buffer.allocUnsafe(size)
    this.buf.copy(next, 0, 0, this.pos)
    this.buf = next
  }
}
