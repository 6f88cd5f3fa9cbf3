/**
 * RequestWriter: a connection's write path. Without pipelining a request goes out at once.
 * Pipelined ones are gathered and leave together, as wrk sends them: when the responses to
 * everything written have come back, or when a whole pipeline's worth is waiting. The server
 * then reads a batch in one read and answers it in one write, instead of a trickle of single
 * requests. A flush asked for while a read is handled waits for the end of that read
 * (read-context.ts); otherwise for the next tick.
 */
import type { Socket } from 'node:net'
import type { DeferredFlush, ReadContext } from './read-context.js'

/** What the writer needs from its connection and transport. */
export interface RequestWriterHost {
  readonly pipeline: number
  readonly io: ReadContext
  countBytes(sent: number, received: number): void
  /** Requests written or queued and not yet answered. */
  inflightCount(): number
  /** The connection is closed (gathered bytes are dropped). */
  isClosed(): boolean
}

/** The gathered writes of one connection. */
export class RequestWriter implements DeferredFlush {
  /** Requests queued and not written yet. */
  queuedRequests = 0
  private readonly queue: Buffer[] = []
  private flushScheduled = false
  /** gathered()'s last batch of one repeated buffer: the batch, its buffer, and how many. */
  private repeat: Buffer | null = null
  private repeatOf: Buffer | null = null
  private repeatCount = 0

  constructor(private readonly socket: Socket, private readonly host: RequestWriterHost) {}

  /** Writes `bytes` (a request, or a held-back body when `isRequest` is false), at once or gathered. */
  write(bytes: Buffer, isRequest: boolean): void {
    const host = this.host
    host.countBytes(bytes.length, 0)
    if (host.pipeline === 1 || (this.queue.length === 0 && host.inflightCount() <= 1 && !isRequest)) {
      this.socket.write(bytes)
      return
    }
    this.queue.push(bytes)
    if (isRequest) this.queuedRequests++
    this.scheduleFlush()
  }

  /** Asks for a flush after the current read, or on the next tick. */
  scheduleFlush(): void {
    if (this.flushScheduled) return
    this.flushScheduled = true
    if (!this.host.io.deferFlush(this)) process.nextTick(flush, this)
  }

  /** Writes the gathered requests, unless they should wait for the batch in flight. */
  flushQueued(): void {
    this.flushScheduled = false
    const q = this.queue
    if (q.length === 0) return
    const unanswered = this.host.inflightCount() - this.queuedRequests
    if (unanswered > 0 && this.queuedRequests < this.host.pipeline) return // a completed response flushes
    if (!this.host.isClosed()) this.socket.write(q.length === 1 ? q[0] : this.gathered(q))
    q.length = 0
    this.queuedRequests = 0
  }

  /**
   * The queued buffers as one. A load run queues the same request bytes again and again, so the
   * last batch's concatenation is kept and written again when it is the same buffer as often
   * (never changed after: the socket may still hold it).
   */
  private gathered(q: Buffer[]): Buffer {
    const first = q[0]
    let same = true
    for (let i = 1; i < q.length && same; i++) same = q[i] === first
    if (!same) return Buffer.concat(q)
    if (this.repeatOf !== first || this.repeatCount !== q.length) {
      this.repeat = Buffer.concat(q)
      this.repeatOf = first
      this.repeatCount = q.length
    }
    return this.repeat!
  }
}

function flush(writer: RequestWriter): void {
  writer.flushQueued()
}
