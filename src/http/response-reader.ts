/**
 * ResponseReader: a connection's read path. Every read lands in the transport's one buffer and is
 * parsed at once, inside the read callback (read-context.ts), for plain and TLS sockets alike.
 * Each response belongs to the oldest in-flight request (RFC 9112 section 9.3.2: responses come
 * in request order); its head decides whether the connection persists (RFC 9112 section 9.3).
 * What becomes of the connection and its queue after a response is the Connection's.
 */
import type { OnReadOpts } from 'node:net'
import type { Connection, ConnectionOwner } from './connection.js'
import { BodyFraming } from './framing.js'
import { ReadBatching } from './read-batching.js'
import { ResponseParser, type ResponseParserOwner } from './response-parser.js'

/** Reads and matches one connection's responses. */
export class ResponseReader implements ResponseParserOwner {
  readonly parser: ResponseParser
  /** net.connect's and tls.connect's `onread`: the shared buffer and the callback that parses it. */
  readonly onread: OnReadOpts
  /** Responses completed by the read being handled. */
  private completedInRead = 0
  private readonly batching: ReadBatching | null

  /** `fd` gives the socket's descriptor for read batching (pipelined plain sockets only). */
  constructor(private readonly conn: Connection, private readonly owner: ConnectionOwner, fd: (() => number) | null) {
    this.parser = new ResponseParser(this)
    this.onread = { buffer: owner.io.buffer, callback: (nread: number) => this.onRead(nread) }
    this.batching = fd !== null && owner.batchReads && owner.pipeline > 1 ? new ReadBatching(fd) : null
  }

  /** Lowers a read batching mark that went unmet (the transport's sweeper calls this). */
  checkStall(now: number): void {
    this.batching?.checkStall(now)
  }

  /** Parses the `nread` bytes a read put at the start of the shared buffer. */
  private onRead(nread: number): boolean {
    const io = this.owner.io
    this.owner.countBytes(0, nread)
    this.completedInRead = 0
    io.begin()
    try {
      this.parser.feed(io.viewOf(nread))
    } finally {
      io.end()
    }
    if (this.batching !== null && !this.conn.closed) {
      this.batching.afterRead(nread, this.completedInRead, this.parser.idle, this.conn.owed, io.now())
    }
    return true
  }

  // ResponseParserOwner

  onMessageStart(): boolean {
    if (this.conn.inflight.length > 0) return true
    // Go: "Unsolicited response received on idle HTTP channel": the connection is unusable.
    this.conn.close('error')
    return false
  }

  expectsNoBody(): boolean {
    return this.conn.inflight[0].spec.isHead
  }

  onInterim(status: number): void {
    const ex = this.conn.inflight[0]
    if (status === 100 && ex.bodyHeld) this.conn.releaseBody(ex)
  }

  onHead(block: Buffer, start: number, end: number): void {
    const p = this.parser
    const conn = this.conn
    const ex = conn.inflight[0]
    ex.status = p.status
    ex.headDeadline = 0
    // Persistence: RFC 9112 section 9.3; HTTP/1.0 needs an explicit keep-alive.
    if (p.connectionClose || (p.versionMinor === 0 && !p.connectionKeepAlive)) conn.noReuse('server-close')
    else if (p.bodyMode === BodyFraming.UntilClose) conn.noReuse('read-until-close')
    else if (p.status === 101 || (p.hasTransferEncoding && p.contentLength >= 0)) conn.noReuse('server-close')
    if (ex.bodyHeld) {
      // A final response before 100 Continue: the body is never sent, so the server may still
      // be waiting for it; the connection cannot be reused (as Go does).
      ex.bodyHeld = false
      ex.continueDeadline = 0
      conn.noReuse('error')
    }
    if (p.keepAliveTimeout >= 0) conn.keepAliveHintMs = p.keepAliveTimeout * 1000
    ex.handler.onResponseHead?.(ex, block, start, end)
    if (!ex.readBody && p.bodyMode !== BodyFraming.None && !(p.bodyMode === BodyFraming.Length && p.contentLength === 0)) conn.leaveBody(ex)
  }

  onBody(chunk: Buffer, start: number, end: number): void {
    const ex = this.conn.inflight[0]
    ex.bodyBytes += end - start
    ex.handler.onResponseBody?.(ex, chunk, start, end)
  }

  onTrailers(block: Buffer, start: number, end: number): void {
    const ex = this.conn.inflight[0]
    ex.handler.onResponseTrailers?.(ex, block, start, end)
  }

  onComplete(): void {
    this.completedInRead++
    this.conn.answered()
  }

  onParseError(kind: 'parse' | 'head-too-large', message: string): void {
    this.conn.abort(kind, `malformed response: ${message}`, 'error')
  }
}
