/**
 * ByteView: what a dissector reads its layer from. It knows the captured bytes and the length
 * the layer had on the wire; reading past the captured bytes throws the shared Truncated
 * marker (no allocation), which the engine turns into a layer marked truncated.
 */

/** Thrown (one shared instance) when a dissector reads past the captured data. */
export const TRUNCATED: { readonly truncated: true } = Object.freeze({ truncated: true as const })

/** Bytes ByteView.indexOf scans itself before handing the rest of a range to Buffer.indexOf. */
const SCAN_BYTES = 256

/** A window onto one layer of a packet. Offsets are relative to the layer's start. */
export class ByteView {
  /** Backing buffer (the whole batch). */
  data: Buffer = Buffer.alloc(0)
  /** Absolute offset of this layer's first byte in `data`. */
  offset = 0
  /** Bytes of this layer present in the capture. */
  captured = 0
  /** Bytes this layer had on the wire (may exceed `captured`). */
  reported = 0

  /** Points the view at data[offset, offset + captured), `reported` long on the wire. */
  set(data: Buffer, offset: number, captured: number, reported: number): this {
    this.data = data
    this.offset = offset
    this.captured = captured
    this.reported = reported
    return this
  }

  /** Throws TRUNCATED unless bytes [at, at + n) were captured. */
  need(at: number, n: number): void {
    if (at < 0 || at + n > this.captured) throw TRUNCATED
  }

  /** Whether bytes [at, at + n) were captured. */
  has(at: number, n: number): boolean {
    return at >= 0 && at + n <= this.captured
  }

  u8(at: number): number {
    if (at < 0 || at >= this.captured) throw TRUNCATED
    return this.data[this.offset + at]
  }

  u16(at: number): number {
    if (at < 0 || at + 2 > this.captured) throw TRUNCATED
    const p = this.offset + at
    return (this.data[p] << 8) | this.data[p + 1]
  }

  u32(at: number): number {
    if (at < 0 || at + 4 > this.captured) throw TRUNCATED
    const p = this.offset + at
    return ((this.data[p] << 24) | (this.data[p + 1] << 16) | (this.data[p + 2] << 8) | this.data[p + 3]) >>> 0
  }

  u16le(at: number): number {
    if (at < 0 || at + 2 > this.captured) throw TRUNCATED
    const p = this.offset + at
    return this.data[p] | (this.data[p + 1] << 8)
  }

  u32le(at: number): number {
    if (at < 0 || at + 4 > this.captured) throw TRUNCATED
    return this.data.readUInt32LE(this.offset + at)
  }

  /** Index of `byte` in [from, to) of the captured bytes, or -1. */
  indexOf(byte: number, from: number, to = this.captured): number {
    const data = this.data
    const start = this.offset + Math.max(0, from)
    const end = this.offset + Math.min(to, this.captured)
    // The first bytes are scanned here: what is looked for (a line's end, a separator) is
    // mostly near, and Buffer's indexOf needs a subarray made to stop at `end` (it has no end
    // argument, and would run on through the rest of the batch when the byte is absent).
    const near = Math.min(end, start + SCAN_BYTES)
    for (let i = start; i < near; i++) if (data[i] === byte) return i - this.offset
    if (near === end) return -1
    const i = data.subarray(near, end).indexOf(byte)
    return i === -1 ? -1 : near + i - this.offset
  }

  /** Latin-1 text of [at, at + n) (allocates: for values that are printed). */
  text(at: number, n: number): string {
    this.need(at, n)
    return this.data.toString('latin1', this.offset + at, this.offset + at + n)
  }
}
