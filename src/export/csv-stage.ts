/**
 * CsvStage: rows of one table written as RFC 4180 CSV into a staging file, a buffer at a time,
 * for DuckDB's CSV reader to turn into Parquet (docs/performance.md, "Export: how the Parquet
 * files are written", says why CSV). Values go straight into the buffer as bytes; an empty
 * field is NULL, a string is quoted only when it holds a comma, quote or line break.
 */
import { closeSync, openSync, writeSync } from 'node:fs'
import { putUint } from '../dissect/info-line.js'

/** Buffer size; a row longer than the room left is written through a flush first. */
const CHUNK = 1 << 20

/** A staged CSV file being written. */
export class CsvStage {
  /** Rows ended so far. */
  rows = 0
  /** Bytes written to the file so far (what is still buffered not counted). */
  written = 0
  buf: Buffer
  pos = 0
  private fd: number
  private first = true

  /**
   * @param buf the buffer of a stage already closed, to write with: a chunk's rotation then
   *   allocates nothing, so no released buffers wait for a garbage collection (a long input
   *   would have more of them waiting at a time than a short one)
   */
  constructor(readonly path: string, buf?: Buffer) {
    this.fd = openSync(path, 'w')
    this.buf = buf ?? Buffer.allocUnsafe(CHUNK + 65536)
  }

  /** Room for `n` more bytes at `pos` (the buffer is written out first when needed). */
  room(n: number): Buffer {
    if (this.pos + n > this.buf.length) {
      this.flush()
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(n * 2)
    }
    return this.buf
  }

  private sep(): void {
    if (this.first) this.first = false
    else this.buf[this.pos++] = 0x2c
  }

  /** A whole number (or NULL for NaN and negatives below -2^53: absent). */
  int(n: number): void {
    this.room(24)
    this.sep()
    if (Number.isNaN(n)) return
    if (n < 0) {
      this.buf[this.pos++] = 0x2d
      n = -n
    }
    this.pos = putUint(this.buf, this.pos, n)
  }

  /** A number as JavaScript prints it (durations). */
  num(n: number): void {
    this.str(Number.isFinite(n) ? String(n) : undefined, false)
  }

  /** Starts a field of at most `n` bytes: the caller writes them at `pos` into the returned buffer and moves `pos`. */
  open(n: number): Buffer {
    this.room(n + 1)
    this.sep()
    return this.buf
  }

  /** A NULL. */
  nil(): void {
    this.room(1)
    this.sep()
  }

  /** A string; undefined is NULL, '' an empty string. `quoteCheck` false for text known plain (addresses). */
  str(s: string | undefined, quoteCheck = true): void {
    if (s === undefined) return this.nil()
    this.room(s.length * 3 + 3)
    this.sep()
    if (quoteCheck && (s === '' || /[",\r\n]/.test(s))) {
      this.pos += this.buf.write(`"${s.replace(/"/g, '""')}"`, this.pos, 'utf8')
      return
    }
    this.pos += this.buf.write(s, this.pos, 'utf8')
  }

  /** Bytes src[from, to) as one already-valid CSV field (the caller quoted it if needed). */
  bytes(src: Uint8Array, from: number, to: number): void {
    this.room(to - from + 1)
    this.sep()
    this.buf.set(src.subarray(from, to), this.pos)
    this.pos += to - from
  }

  /** Ends the row. */
  end(): void {
    this.room(1)
    this.buf[this.pos++] = 0x0a
    this.first = true
    this.rows++
    if (this.pos >= CHUNK) this.flush()
  }

  private flush(): void {
    let off = 0
    while (off < this.pos) off += writeSync(this.fd, this.buf, off, this.pos - off)
    this.written += off
    this.pos = 0
  }

  /** Writes what is buffered and closes the file. */
  close(): void {
    if (this.fd < 0) return
    try {
      this.flush()
    } finally {
      closeSync(this.fd)
      this.fd = -1
    }
  }
}
