/**
 * FileSink: a buffered, synchronous byte sink for capture files. Writers append whole records
 * into one buffer; the sink flushes with one write() per buffer (1 MiB by default), never per
 * packet. When a flush fails (disk full), the file is cut back to the last whole flush, so what
 * is on disk is always a valid file of complete records.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, writeSync } from 'node:fs'
import { constants } from 'node:os'
import { PipeClosedError, fileAccessError } from '../errors.js'
import type { rangeWriter } from './file-window.js'

/** The addon's writev of buffer ranges (file-window.ts); null until loadRangeWriter() found it. */
let gather: NonNullable<ReturnType<typeof rangeWriter>> | null = null

/**
 * Loads the addon's writev of ranges for FileSink.writeRanges (a run that writes a file awaits
 * it before its first batch). Not loaded, or without the addon, ranges are copied instead.
 */
export async function loadRangeWriter(): Promise<void> {
  gather = (await import('./file-window.js')).rangeWriter() ?? null
}

/** errno numbers to their names (ENOSPC...), for errors from the addon's writes. */
let errnoNames: Map<number, string> | undefined
function errnoError(errno: number): NodeJS.ErrnoException {
  errnoNames ??= new Map(Object.entries(constants.errno).map(([name, n]) => [n, name]))
  const code = errnoNames.get(errno) ?? `errno ${errno}`
  return Object.assign(new Error(code), { code, errno: -errno })
}

/** A buffered sink over a file descriptor. */
export class FileSink {
  /** Bytes handed to the kernel so far (always a whole number of records). */
  committed = 0
  /** Number of write() calls made, for benchmarks. */
  writes = 0
  private buf: Buffer
  private len = 0
  private closed = false
  /** The reader of the pipe went away: nothing more can be written (writes are dropped). */
  readerGone = false

  private constructor(readonly path: string, private readonly fd: number, private readonly ownsFd: boolean, size: number) {
    this.buf = Buffer.allocUnsafe(size)
  }

  /** Creates (truncates) `path`, or writes to stdout for `-`. */
  static create(path: string, bufferSize = 1 << 20): FileSink {
    if (path === '-') return new FileSink('-', 1, false, bufferSize)
    let fd: number
    try {
      fd = openSync(path, 'w', 0o644)
    } catch (err) {
      throw fileAccessError(path, err, 'create it')
    }
    return new FileSink(path, fd, true, bufferSize)
  }

  /** Returns a region of `n` bytes to fill, flushing first when the buffer lacks room. */
  reserve(n: number): { buf: Buffer; at: number } {
    if (this.len + n > this.buf.length) {
      this.flush()
      if (n > this.buf.length) this.buf = Buffer.allocUnsafe(Math.max(n, this.buf.length * 2))
    }
    const at = this.len
    this.len += n
    return { buf: this.buf, at }
  }

  /**
   * Appends bytes (whole records). A chunk of half the buffer or more goes to the kernel directly
   * after what is buffered, without a copy (live capture hands over ring-sized runs of records).
   */
  write(bytes: Uint8Array): void {
    this.writeRange(bytes, 0, bytes.length)
  }

  /**
   * Appends bytes[start, end) (whole records), as write() does: a range of at least `direct`
   * bytes (default half the buffer) goes to the kernel directly from `bytes` after what is
   * buffered; a shorter one is copied into the buffer. A file-to-file copy passes a lower
   * `direct`, so that long runs of records go out of the read buffer without a copy.
   */
  writeRange(bytes: Uint8Array, start: number, end: number, direct = this.buf.length >> 1): void {
    const n = end - start
    if (n >= direct || n > this.buf.length) {
      if (this.len > 0) this.flush()
      this.writeOut(bytes, start, n)
      return
    }
    if (this.len + n > this.buf.length) this.flush()
    // TypedArray set of a view: less work per range than Buffer.copy, which makes a view too.
    this.buf.set(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end), this.len)
    this.len += n
  }

  /**
   * Appends bytes[ranges[2i], ranges[2i + 1]) for i < count (whole records, in order). To a file
   * this sink opened, once loadRangeWriter() found the addon, they go to the kernel with writev(2)
   * straight from `bytes` (a mapped window of the file read: no copy in user space); otherwise as
   * writeRange() would.
   */
  writeRanges(bytes: Uint8Array, ranges: Uint32Array, count: number, direct?: number): void {
    const writeRanges = this.ownsFd && !this.readerGone ? gather : null
    if (writeRanges === null) {
      for (let i = 0; i < count; i++) this.writeRange(bytes, ranges[2 * i], ranges[2 * i + 1], direct)
      return
    }
    if (this.len > 0) this.flush()
    const n = writeRanges(this.fd, bytes, ranges, count)
    if (n < 0) this.failed(errnoError(-n))
    this.writes++
    this.committed += n
  }

  /** Bytes buffered and not yet written. */
  get pending(): number {
    return this.len
  }

  /** Hands the buffered bytes to the kernel. */
  flush(): void {
    const n = this.len
    this.len = 0
    this.writeOut(this.buf, 0, n)
  }

  /** Writes bytes[start, start + n) out; on failure cuts the file back to the last whole write and throws. */
  private writeOut(bytes: Uint8Array, start: number, n: number): void {
    if (this.readerGone) return
    let off = 0
    try {
      while (off < n) {
        try {
          off += writeSync(this.fd, bytes, start + off, n - off)
          this.writes++
        } catch (err) {
          // stdout may be a non-blocking pipe: wait for it briefly rather than fail.
          if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
        }
      }
    } catch (err) {
      this.failed(err)
    }
    this.committed += n
  }

  /** A write failed: the file is cut back to its last whole write (so it ends on a record boundary); throws. */
  private failed(err: unknown): never {
    if ((err as NodeJS.ErrnoException).code === 'EPIPE') {
      this.readerGone = true
      throw new PipeClosedError(this.path, 'the reader closed the pipe', { cause: err })
    }
    if (this.ownsFd) try { ftruncateSync(this.fd, this.committed) } catch { /* best effort */ }
    throw fileAccessError(this.path, err, 'write it')
  }

  /**
   * Flushes and lends the file descriptor to a writer outside this sink (live capture's native
   * writer thread), which appends whole records; adopt() then counts what it wrote.
   */
  lendFd(): number {
    if (!this.ownsFd) throw new Error('lendFd: the sink writes to stdout')
    this.flush()
    return this.fd
  }

  /** Counts bytes of whole records appended through a lent descriptor. */
  adopt(bytes: number): void {
    this.committed += bytes
  }

  /** Flushes and closes (idempotent). With `sync`, fsyncs first. */
  close(sync = false): void {
    if (this.closed) return
    this.closed = true
    try {
      this.flush()
      if (sync && this.ownsFd) fsyncSync(this.fd)
    } finally {
      if (this.ownsFd) closeSync(this.fd)
    }
  }
}
