/**
 * ByteSource: where a capture file's bytes come from (a file, or standard input), read in large
 * chunks into a caller's buffer. One read per chunk, never per record.
 */
import { open, type FileHandle } from 'node:fs/promises'
import type { Readable } from 'node:stream'
import { fileAccessError } from '../errors.js'

/** A sequential source of bytes. */
export interface ByteSource {
  /** Display name for messages (the path, or `-`). */
  readonly name: string
  /** Reads up to `length` bytes into `target` at `offset`; resolves 0 at end of input. */
  read(target: Buffer, offset: number, length: number): Promise<number>
  close(): Promise<void>
}

/** Opens a file, or standard input for `-`. */
export async function openByteSource(path: string): Promise<ByteSource> {
  if (path === '-') return new StreamSource('-', process.stdin)
  let handle: FileHandle
  try {
    handle = await open(path, 'r')
    const st = await handle.stat()
    if (st.isDirectory()) {
      await handle.close()
      throw Object.assign(new Error('is a directory'), { code: 'EISDIR' })
    }
  } catch (err) {
    throw fileAccessError(path, err, 'open it')
  }
  return new FileSource(path, handle)
}

class FileSource implements ByteSource {
  constructor(readonly name: string, private readonly handle: FileHandle) {}

  async read(target: Buffer, offset: number, length: number): Promise<number> {
    try {
      const { bytesRead } = await this.handle.read(target, offset, length, null)
      return bytesRead
    } catch (err) {
      throw fileAccessError(this.name, err, 'read it')
    }
  }

  close(): Promise<void> {
    return this.handle.close()
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
  }
}
