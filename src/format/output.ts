/**
 * TextOutput: buffered text to stdout for the per-packet formatters. Lines are gathered into
 * chunks of about 64 KiB and written with backpressure; a closed pipe (`netkit read | head`)
 * ends output quietly, as tcpdump does.
 */
import type { Writable } from 'node:stream'

/** Buffered text output. */
export class TextOutput {
  /** True once the reader at the other end went away (EPIPE); producers should stop. */
  closed = false
  private chunk = ''
  private drained: Promise<void> | null = null

  constructor(private readonly stream: Writable = process.stdout, private readonly chunkSize = 1 << 16) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE' || err.code === 'ERR_STREAM_DESTROYED') this.closed = true
      else throw err
    })
  }

  /** Appends text (the caller includes newlines). */
  write(text: string): void {
    this.chunk += text
    if (this.chunk.length >= this.chunkSize) this.push()
  }

  private push(): void {
    if (this.closed || this.chunk.length === 0) {
      this.chunk = ''
      return
    }
    const ok = this.stream.write(this.chunk)
    this.chunk = ''
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
