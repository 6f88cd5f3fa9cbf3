/**
 * ByteSource: where a capture file's bytes come from (a file, or standard input), read in large
 * chunks into a caller's buffer. One read per chunk, never per record.
 */
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs'
import type { Readable } from 'node:stream'
import { fileAccessError } from '../errors.js'
import type { MappedReader, WindowView } from './file-window.js'

/** A sequential source of bytes. */
export interface ByteSource {
  /** Display name for messages (the path, or `-`). */
  readonly name: string
  /** Reads up to `length` bytes into `target` at `offset`; resolves 0 at end of input. */
  read(target: Buffer, offset: number, length: number): Promise<number>
  /**
   * The file's bytes from `offset` on, mapped rather than read (at least `need` of them unless
   * the file ends first), or undefined when this source is read with read() only (pipes, stdin,
   * small files, no addon). The view is valid until the next call.
   */
  view?(offset: number, need: number): Promise<WindowView | undefined>
  close(): Promise<void>
}

/** Opens a file, or standard input for `-`. */
export async function openByteSource(path: string): Promise<ByteSource> {
  if (path === '-') return new StreamSource('-', process.stdin)
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch (err) {
    throw fileAccessError(path, err, 'open it')
  }
  const st = fstatSync(fd)
  if (st.isDirectory()) {
    closeSync(fd)
    throw fileAccessError(path, Object.assign(new Error('is a directory'), { code: 'EISDIR' }), 'open it')
  }
  // FIFOs, sockets and devices may block or be non-blocking: read them as streams.
  if (!st.isFile()) return new StreamSource(path, createReadStream(path, { fd, highWaterMark: 1 << 20 }))
  return new FileSource(path, fd, st.size)
}

/**
 * A regular file. Its bytes are mapped (file-window.ts) when the file is large enough and the
 * addon is at hand, else read with synchronous reads: from the page cache a read is a memcpy,
 * cheaper on the calling thread than a round trip through libuv's pool (profiles showed the loop
 * idle waiting for it). Pipes and stdin go through StreamSource instead.
 */
class FileSource implements ByteSource {
  private fd: number
  /** The mapped reader; null once it is known that this file is not mapped. */
  private mapped: MappedReader | null | undefined
  /** A window was used: the descriptor's read position no longer says where reading is. */
  private viewed = false

  constructor(readonly name: string, fd: number, private readonly size: number) {
    this.fd = fd
  }

  async view(offset: number, need: number): Promise<WindowView | undefined> {
    if (this.mapped === undefined) {
      this.mapped = (await import('./file-window.js')).MappedReader.open(this.fd, this.size) ?? null
    }
    if (this.mapped === null || this.fd < 0) return undefined
    try {
      const view = this.mapped.view(offset, need)
      this.viewed = true
      return view
    } catch (err) {
      // A file system that cannot map files: read(2) takes over, which it can only while no
      // window was used (the descriptor's position is where read() left it).
      if (!this.viewed) {
        this.mapped.close()
        this.mapped = null
        return undefined
      }
      throw fileAccessError(this.name, err, 'read it')
    }
  }

  async read(target: Buffer, offset: number, length: number): Promise<number> {
    try {
      return readSync(this.fd, target, offset, length, null)
    } catch (err) {
      throw fileAccessError(this.name, err, 'read it')
    }
  }

  async close(): Promise<void> {
    if (this.fd >= 0) {
      const fd = this.fd
      this.fd = -1
      this.mapped?.close()
      closeSync(fd)
    }
  }
}

/** Adapts a Readable (stdin) to pull reads, copying its chunks into the caller's buffer. */
export class StreamSource implements ByteSource {
  private pending: Buffer | null = null
  private ended = false
  private error: unknown = null
  private wake: (() => void) | null = null

  constructor(readonly name: string, private readonly stream: Readable) {
    stream.on('readable', () => this.notify())
    stream.on('end', () => { this.ended = true; this.notify() })
    stream.on('error', (err) => { this.error = err; this.notify() })
  }

  private notify(): void {
    const w = this.wake
    this.wake = null
    w?.()
  }

  async read(target: Buffer, offset: number, length: number): Promise<number> {
    for (;;) {
      if (this.pending === null) this.pending = this.stream.read() as Buffer | null
      if (this.pending !== null) {
        const n = Math.min(length, this.pending.length)
        this.pending.copy(target, offset, 0, n)
        this.pending = n === this.pending.length ? null : this.pending.subarray(n)
        return n
      }
      if (this.error) throw fileAccessError(this.name, this.error, 'read it')
      if (this.ended) return 0
      await new Promise<void>((resolve) => { this.wake = resolve })
    }
  }

  async close(): Promise<void> {
    this.stream.pause()
    if (this.stream !== process.stdin) this.stream.destroy()
  }
}
