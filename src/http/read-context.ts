/**
 * ReadContext: what the connections of one Transport share while socket reads are handled (and
 * nothing is shared between Transports). Reads land in one buffer and are parsed synchronously
 * in the read callback, so the buffer is free again before any other read of the transport can
 * happen (see: Node net.connect `onread`). While one read's responses are handled the clock is
 * read once and held: they all arrived with that read, and the requests their workers send next
 * start then. Requests that connections gather meanwhile are written when the read is done,
 * one write per connection, still inside the read callback (docs/performance.md, "Pipelined
 * writes after a read").
 */
import { performance } from 'node:perf_hooks'

/** A connection whose gathered requests wait for the end of the current read. */
export interface DeferredFlush {
  flushQueued(): void
}

/** The read buffer, held clock and deferred writes of one Transport. */
export class ReadContext {
  /** Where every read of this transport's connections lands (parsed before the next read). */
  readonly buffer = Buffer.allocUnsafe(64 * 1024)
  private view: Buffer = this.buffer.subarray(0, 0)
  private held = -1
  private inRead = false
  private readonly flushAfterRead: DeferredFlush[] = []

  /** The current time in performance.now() ms, or the held time of the read being handled. */
  now(): number {
    return this.held >= 0 ? this.held : performance.now()
  }

  /**
   * The first `nread` bytes of the buffer (responses of a load test have the same size read
   * after read, so the view is reused while the length repeats).
   */
  viewOf(nread: number): Buffer {
    if (nread !== this.view.length) this.view = this.buffer.subarray(0, nread)
    return this.view
  }

  /** Starts handling a read: holds the clock. Every begin() is followed by end(). */
  begin(): void {
    this.held = performance.now()
    this.inRead = true
  }

  /** Ends handling a read: writes what was deferred, releases the clock. */
  end(): void {
    this.inRead = false
    const list = this.flushAfterRead
    if (list.length > 0) {
      // Only pipelined connections defer; setting an array's length is a runtime call even when it is 0.
      for (let i = 0; i < list.length; i++) list[i].flushQueued()
      list.length = 0
    }
    this.held = -1
  }

  /** Defers a connection's flush to the end of the current read; false when no read is being handled. */
  deferFlush(conn: DeferredFlush): boolean {
    if (!this.inRead) return false
    this.flushAfterRead.push(conn)
    return true
  }
}
