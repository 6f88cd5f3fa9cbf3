/**
 * TextOutput: buffered text to stdout for the per-packet formatters. Lines are gathered into
 * chunks of about 64 KiB and written with backpressure; a closed pipe (`netkit read | head`)
 * ends output quietly, as tcpdump does. Lines come as strings (`write`) or as ASCII bytes put
 * straight into a byte chunk (`byteChunk`/`bytePos`), for numbers that never need a string.
 */
import type { Writable } from 'node:stream'

/** Room a byte producer may fill past the chunk size before handing the chunk on. */
export const BYTE_SLACK = 4096

/** Written chunks kept for reuse (output waiting in a full pipe needs no more than a few). */
const MAX_FREE_CHUNKS = 16

/**
 * Copies src[from, to) to dst at `p` and returns the new end: a loop for a short line (cheaper
 * than making the subarray TypedArray.set needs), set() for a long one.
 */
export function copyBytes(dst: Uint8Array, p: number, src: Uint8Array, from: number, to: number): number {
  if (to - from <= 48) {
    for (let i = from; i < to; i++) dst[p++] = src[i]
    return p
  }
  dst.set(src.subarray(from, to), p)
  return p + (to - from)
}

/** Buffered text output. */
export class TextOutput {
  /** True once the reader at the other end went away (EPIPE); producers should stop. */
  closed = false
  private chunk = ''
  private bytes: Buffer | null = null
  /**
   * Byte chunks the stream has written out, for reuse: otherwise every 64 KiB of output would
   * be a new buffer, and when lines make no JS garbage those pile up outside the heap until a
   * GC. A chunk the stream took whole at once (a file, /dev/null, a pipe with room) comes back
   * at once; one a full pipe held comes back through its write callback, which runs when the
   * producer gives the event loop a turn waiting for 'drain' (a taken chunk's callback may come
   * only after many batches, so it is not waited for).
   */
  private readonly free: Buffer[] = []
  /** Bytes used in the byte chunk; a producer writes from here. */
  bytePos = 0
  private drained: Promise<void> | null = null

  constructor(private readonly stream: Writable = process.stdout, private readonly chunkSize = 1 << 16) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true
      else throw err
    })
  }

  /** Appends text (the caller includes newlines). */
  write(text: string): void {
    if (this.bytePos > 0) this.pushBytes()
    this.chunk += text
    if (this.chunk.length >= this.chunkSize) this.push()
  }

  /**
   * The byte chunk, with at least BYTE_SLACK bytes of room at `bytePos`. The producer writes
   * at most that much, then calls `commitBytes` with where it stopped.
   */
  byteChunk(): Buffer {
    if (this.chunk.length > 0) this.push()
    this.bytes ??= this.free.pop() ?? Buffer.allocUnsafe(this.chunkSize + BYTE_SLACK)
    return this.bytes
  }

  /** Keeps the bytes written up to `end`; returns the chunk to write the next ones into. */
  commitBytes(end: number): Buffer {
    this.bytePos = end
    if (end >= this.chunkSize) this.pushBytes()
    return this.byteChunk()
  }

  /** Appends bytes src[from, to) (a line made elsewhere) to the byte chunk. */
  writeBytes(src: Uint8Array, from: number, to: number): void {
    const n = to - from
    const buf = this.byteChunk()
    if (n > BYTE_SLACK) {
      // Longer than the room a chunk guarantees: hand what is there on, then a copy of these.
      this.pushBytes()
      if (!this.closed) this.wrote(this.stream.write(Buffer.from(src.subarray(from, to))))
      return
    }
    this.commitBytes(copyBytes(buf, this.bytePos, src, from, to))
  }

  private pushBytes(): void {
    const bytes = this.bytes
    const n = this.bytePos
    this.bytePos = 0
    if (bytes === null || n === 0) return
    // The stream may keep the chunk until it is written: the next line starts in another one.
    this.bytes = null
    if (this.closed) return
    let taken = false
    this.wrote(this.stream.write(bytes.subarray(0, n), (err) => {
      // Writable calls back after write() returned, so `taken` is settled by then.
      if (!taken && err == null && this.free.length < MAX_FREE_CHUNKS) this.free.push(bytes)
    }))
    if (this.stream.writableLength === 0) {
      taken = true
      if (this.free.length < MAX_FREE_CHUNKS) this.free.push(bytes)
    }
  }

  private push(): void {
    this.pushBytes()
    if (this.closed || this.chunk.length === 0) {
      this.chunk = ''
      return
    }
    const ok = this.stream.write(this.chunk)
    this.chunk = ''
    this.wrote(ok)
  }

  /** Waits for 'drain' when the stream said it is full. */
  private wrote(ok: boolean): void {
    if (!ok && this.drained === null) {
      // Resolved by 'drain', or by 'close' when the reader went away (one listener pair at a time).
      this.drained = new Promise((resolve) => {
        const done = () => {
          this.stream.off('drain', done)
          this.stream.off('close', done)
          this.drained = null
          resolve()
        }
        this.stream.on('drain', done)
        this.stream.on('close', done)
      })
    }
  }

  /** Resolves when the stream can take more (call between batches). */
  async ready(): Promise<void> {
    if (this.drained) await this.drained
  }

  /** Writes what is buffered now (live output: each batch shows when it arrives). */
  flush(): void {
    this.push()
  }

  /** Writes what is buffered and waits until the stream has taken it. */
  async end(): Promise<void> {
    this.push()
    await this.ready()
  }
}
