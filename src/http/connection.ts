/**
 * Connection: one persistent HTTP/1.1 connection, Go's persistConn, and the queue of its
 * in-flight requests, which only it changes and fails. The write path (request-writer.ts) puts
 * pre-serialized requests on the socket, gathered when pipelined; the read path
 * (response-reader.ts) is always listening, so a response is parsed as it arrives and a server's
 * FIN on an idle connection is seen at once (the connection is then dropped, never handed out).
 * Responses are matched to requests in order (RFC 9112 section 9.3.2 pipelining).
 */
import { connect, type Socket } from 'node:net'
import { connect as tlsConnect, type TLSSocket } from 'node:tls'
import { HttpError, type HttpErrorKind } from '../errors.js'
import type { Exchange } from './exchange.js'
import { kindOfDialError, kindOfSocketError, shouldRetry, type CloseReason } from './failures.js'
import type { HostPool } from './host-pool.js'
import type { ReadContext } from './read-context.js'
import { RequestWriter } from './request-writer.js'
import { ResponseReader } from './response-reader.js'
import { kindOfTlsError, tlsConnectOptions, type TlsClientOptions, type TlsStats } from './tls-dial.js'

export type { CloseReason }

/** What the connection needs from the transport that owns it. */
export interface ConnectionOwner {
  readonly expectContinueTimeout: number
  readonly responseHeaderTimeout: number
  /** Requests in flight per connection (1: no pipelining). */
  readonly pipeline: number
  /** The read buffer, clock and deferred writes this connection shares with its siblings. */
  readonly io: ReadContext
  onConnected(conn: Connection): void
  onDialFailed(conn: Connection, err: HttpError): void
  /** The connection finished its last in-flight response and may be reused. */
  onReusable(conn: Connection): void
  /** A pipelined connection finished a response and has room for another request. */
  onRoom(conn: Connection): void
  onClosed(conn: Connection, reason: CloseReason, wasDialing: boolean): void
  /** An exchange failed on this connection; `retryable` says whether Go's rules allow a retry. */
  onExchangeFailed(ex: Exchange, err: HttpError, retryable: boolean): void
  countBytes(sent: number, received: number): void
  /** Pipelined reads may wait for several responses (SO_RCVLOWAT, see read-batching.ts). */
  readonly batchReads: boolean
  /** TLS settings for https targets, and where handshakes are counted. */
  readonly tls: TlsClientOptions
  readonly tlsStats: TlsStats
}

const enum ConnState { Dialing, Active, Idle, Closed }

/** One persistent connection to one host. */
export class Connection {
  readonly pool: HostPool
  readonly socket: Socket
  /** Requests written and not yet answered, oldest first. */
  readonly inflight: Exchange[] = []
  /** Responses read to their end on this connection. */
  served = 0
  /** The connection may carry another request after the current ones. */
  keepAlive = true
  /** Why it will close after the current response, when keepAlive went false. */
  closeReason: CloseReason = 'server-close'
  /** Absolute times (now() ms); 0 = none. */
  connectDeadline = 0
  idleDeadline = 0
  /** The server's Keep-Alive timeout hint in ms, or 0. */
  keepAliveHintMs = 0
  /** The pool's wait sequence when this dial started: it was dialled for waiters up to here. */
  dialSeq = 0
  /** Links of the transport's idle LRU list. */
  lruPrev: Connection | null = null
  lruNext: Connection | null = null
  private state = ConnState.Dialing
  private readonly owner: ConnectionOwner
  private readonly reader: ResponseReader
  private readonly writer: RequestWriter
  private unrefed = false
  /** In-flight requests that are not idempotent (nothing may be pipelined behind them). */
  private unsafeInflight = 0

  constructor(owner: ConnectionOwner, pool: HostPool, connectTimeout: number) {
    this.owner = owner
    this.pool = pool
    if (connectTimeout > 0) this.connectDeadline = owner.io.now() + connectTimeout
    const tls = pool.target.scheme === 'https'
    // Reads land in the transport's one buffer and are parsed synchronously in the callback (no
    // per-read allocation, no 'data' event); see read-context.ts. node:tls copies each decrypted
    // record's bytes there the same way (tls.connect's `onread`). Read batching sets SO_RCVLOWAT
    // from response sizes, and under TLS the kernel counts record bytes: plain sockets only.
    const fd = (): number => (this.socket as unknown as { _handle?: { fd?: number } | null })._handle?.fd ?? -1
    this.reader = new ResponseReader(this, owner, tls ? null : fd)
    const onread = this.reader.onread
    const socket: Socket = tls
      ? tlsConnect(tlsConnectOptions(owner.tls, pool.target.host, pool.target.port, pool.tlsSession, onread)).setNoDelay(true)
      : connect({ host: pool.target.host, port: pool.target.port, noDelay: true, onread })
    this.socket = socket
    this.writer = new RequestWriter(socket, {
      pipeline: owner.pipeline,
      io: owner.io,
      countBytes: (sent, received) => owner.countBytes(sent, received),
      inflightCount: () => this.inflight.length,
      isClosed: () => this.state === ConnState.Closed,
    })
    const connected = (): void => {
      this.connectDeadline = 0
      this.state = ConnState.Active
      owner.onConnected(this)
    }
    if (tls) {
      const t = socket as TLSSocket
      let tcpAt = 0
      t.on('connect', () => { tcpAt = owner.io.now() })
      t.on('secureConnect', () => {
        owner.tlsStats.record(t, tcpAt > 0 ? owner.io.now() - tcpAt : 0)
        connected()
      })
      // TLS 1.3 sends tickets after the handshake: the newest is offered on the next dial.
      t.on('session', (session: Buffer) => { pool.tlsSession = session })
      const keylog = owner.tls.onKeylog
      if (keylog) t.on('keylog', keylog)
    } else {
      socket.on('connect', connected)
    }
    socket.on('end', () => this.onEnd(null))
    socket.on('error', (err: NodeJS.ErrnoException) => this.onEnd(err))
    socket.on('close', () => this.onEnd(null))
  }

  /** Whether the connection is closed. */
  get closed(): boolean {
    return this.state === ConnState.Closed
  }

  /** Requests written and not yet answered (gathered ones not counted). */
  get owed(): number {
    return this.inflight.length - this.writer.queuedRequests
  }

  /** Whether it is parked in the pool's idle list. */
  get isIdle(): boolean {
    return this.state === ConnState.Idle
  }

  /** Whether it is still connecting. */
  get isDialing(): boolean {
    return this.state === ConnState.Dialing
  }

  /** Whether another request may be pipelined on it now. */
  canPipeline(depth: number): boolean {
    return this.state === ConnState.Active && this.keepAlive && this.unsafeInflight === 0 &&
      this.inflight.length > 0 && this.inflight.length < depth && !this.inflight[this.inflight.length - 1].bodyHeld
  }

  /** Parks the connection idle until `deadline`; an idle socket does not keep the process alive. */
  park(deadline: number): void {
    this.state = ConnState.Idle
    this.idleDeadline = deadline
  }

  /**
   * Lets an idle socket stop keeping the process alive. Called by the transport's sweeper, not
   * on every park: a load generator parks and takes back its connection once per request.
   */
  unrefIfIdle(): void {
    if (this.state === ConnState.Idle && !this.unrefed) {
      this.unrefed = true
      this.socket.unref()
    }
  }

  /** Writes a request on the connection (which the caller took from the pool or just dialled). */
  send(ex: Exchange): void {
    if (this.state === ConnState.Idle) {
      this.state = ConnState.Active
      if (this.unrefed) {
        this.unrefed = false
        this.socket.ref()
      }
    }
    ex.conn = this
    ex.reused = this.served > 0
    this.inflight.push(ex)
    if (!ex.spec.idempotent) this.unsafeInflight++
    const socket = this.socket
    if (socket.destroyed || !socket.writable) {
      // Nothing was written: Go's nothingWrittenError, always safe to retry elsewhere.
      this.abort('closed', 'connection closed before the request was written', 'error', true)
      return
    }
    const spec = ex.spec
    if (spec.expectContinue) {
      // RFC 9110 section 10.1.1: send the head, hold the body until 100 Continue (or a while).
      this.writer.write(spec.head, true)
      ex.bodyHeld = true
      ex.continueDeadline = this.owner.io.now() + this.owner.expectContinueTimeout
    } else {
      this.writer.write(spec.bytes, true)
    }
    if (this.owner.responseHeaderTimeout > 0) ex.headDeadline = this.owner.io.now() + this.owner.responseHeaderTimeout
    if (spec.connectionClose) this.noReuse('keepalive-disabled')
  }

  /** Sends a held-back body (100 Continue arrived, or waiting for it timed out). */
  releaseBody(ex: Exchange): void {
    if (!ex.bodyHeld || ex.spec.body === null) return
    ex.bodyHeld = false
    ex.continueDeadline = 0
    this.writer.write(ex.spec.body, false)
  }

  /** Checks the deadlines of this connection and its exchanges against `now`. */
  checkDeadlines(now: number): void {
    this.reader.checkStall(now)
    if (this.state === ConnState.Dialing) {
      if (this.connectDeadline > 0 && now >= this.connectDeadline) {
        this.dialFailed(new HttpError('connect-timeout', `connect to ${this.pool.target.host}:${this.pool.target.port} timed out`))
      }
      return
    }
    for (let i = 0; i < this.inflight.length; i++) {
      const ex = this.inflight[i]
      if (ex.deadline > 0 && now >= ex.deadline) {
        this.abortOne(ex, 'timeout', 'request timed out')
        return
      }
      if (ex.headDeadline > 0 && now >= ex.headDeadline) {
        this.abortOne(ex, 'header-timeout', 'timed out waiting for the response head')
        return
      }
      if (ex.continueDeadline > 0 && now >= ex.continueDeadline) this.releaseBody(ex)
    }
  }

  /**
   * Gives up on one in-flight exchange (its caller cancelled it). Its response may still come,
   * so the connection cannot carry anything else reliably: it closes, and the exchanges
   * pipelined beside it fail (retryable when idempotent).
   */
  cancel(target: Exchange): void {
    const list = this.inflight.splice(0)
    this.unsafeInflight = 0
    target.conn = null
    this.close('error')
    for (const ex of list) {
      if (ex === target) continue
      ex.conn = null
      this.owner.onExchangeFailed(ex, new HttpError('closed', 'connection closed after another request was cancelled'), ex.spec.idempotent)
    }
  }

  /** Closes the connection for the transport's shutdown; whatever is in flight fails as aborted. */
  shutdown(): void {
    const list = this.inflight.splice(0)
    this.unsafeInflight = 0
    this.close('shutdown')
    for (const ex of list) {
      ex.conn = null
      this.owner.onExchangeFailed(ex, new HttpError('aborted', 'transport closed'), false)
    }
  }

  /** Closes the connection. In-flight exchanges must have been taken off before. */
  close(reason: CloseReason): void {
    if (this.state === ConnState.Closed) return
    const wasDialing = this.state === ConnState.Dialing
    this.state = ConnState.Closed
    this.reader.parser.kill()
    this.socket.destroy()
    this.owner.onClosed(this, wasDialing && reason !== 'shutdown' ? 'dial-failed' : reason, wasDialing)
  }

  /** Marks the connection as not reusable after the current response. */
  noReuse(reason: CloseReason): void {
    if (this.keepAlive) {
      this.keepAlive = false
      this.closeReason = reason
    }
  }

  private dialFailed(err: HttpError): void {
    if (this.state !== ConnState.Dialing) return
    this.close('dial-failed')
    this.owner.onDialFailed(this, err)
  }

  /**
   * Fails every in-flight exchange and closes. The first gets `kind`; the ones pipelined behind it
   * were never answered, so RFC 9112 section 9.3.2 lets them be retried. `nothingWritten` marks
   * a failure before any byte of the request left (always retryable, as Go's nothingWrittenError).
   */
  abort(kind: HttpErrorKind, message: string, reason: CloseReason, nothingWritten = false, cause?: unknown): void {
    const list = this.inflight.splice(0)
    this.unsafeInflight = 0
    const gotBytes = !this.reader.parser.idle
    this.close(reason)
    for (let i = 0; i < list.length; i++) {
      const ex = list[i]
      ex.conn = null
      const err = new HttpError(kind, message, cause === undefined ? {} : { cause })
      let retryable: boolean
      if (i > 0) retryable = ex.spec.idempotent
      else if (nothingWritten) retryable = true
      else retryable = shouldRetry(ex, gotBytes, kind)
      this.owner.onExchangeFailed(ex, err, retryable)
    }
  }

  /** Fails one exchange for a timeout; the connection cannot be used again (its reply would come). */
  private abortOne(target: Exchange, kind: HttpErrorKind, message: string): void {
    const index = this.inflight.indexOf(target)
    const list = this.inflight.splice(0)
    this.unsafeInflight = 0
    this.close('error')
    for (let i = 0; i < list.length; i++) {
      const ex = list[i]
      ex.conn = null
      if (i === index) this.owner.onExchangeFailed(ex, new HttpError(kind, message), false)
      else if (i > index || ex.spec.idempotent) this.owner.onExchangeFailed(ex, new HttpError('closed', 'connection closed after another request timed out'), ex.spec.idempotent)
      else this.owner.onExchangeFailed(ex, new HttpError(kind, message), false)
    }
  }

  /** The socket ended, errored or closed. */
  private onEnd(err: NodeJS.ErrnoException | null): void {
    if (this.state === ConnState.Closed) return
    if (this.state === ConnState.Dialing) {
      const e = err ?? Object.assign(new Error('connection closed while connecting'), { code: 'ECONNRESET' })
      const target = `${this.pool.target.host}:${this.pool.target.port}`
      const tlsKind = this.pool.target.scheme === 'https' ? kindOfTlsError(e) : undefined
      if (tlsKind !== undefined) this.dialFailed(new HttpError(tlsKind, `TLS handshake with ${target} failed: ${e.code ?? ''} ${e.message}`.replace(/\s+/g, ' '), { cause: e }))
      else this.dialFailed(new HttpError(kindOfDialError(e), `cannot connect to ${target}: ${e.code ?? e.message}`, { cause: e }))
      return
    }
    if (err === null) {
      const outcome = this.reader.parser.end()
      if (outcome === 'complete' || (this.state as ConnState) === ConnState.Closed) return
      if (this.inflight.length === 0) {
        // Seen at once because a read is always pending: drop it, never hand it out.
        this.close('server-closed-idle')
        return
      }
      if (outcome === 'idle') this.abort('closed', 'server closed the connection before responding', 'server-closed')
      else this.abort('truncated', 'connection closed in the middle of the response', 'server-closed')
      return
    }
    if (this.inflight.length === 0) {
      this.close(this.state === ConnState.Idle ? 'server-closed-idle' : 'error')
      return
    }
    this.abort(kindOfSocketError(err), `${err.code ?? 'socket error'}: ${err.message}`, 'server-closed', false, err)
  }

  /**
   * The caller will not read this response's body: it is done at the head, and the connection,
   * with body bytes still coming, cannot carry another request (Go closes it the same way).
   * Requests pipelined behind it fail as retryable when idempotent, as for a cancel.
   */
  leaveBody(target: Exchange): void {
    const list = this.inflight.splice(0)
    this.unsafeInflight = 0
    this.served++
    this.close('body-not-read')
    for (const ex of list) {
      ex.conn = null
      if (ex === target) {
        ex.active = false
        ex.handler.onResponseComplete(ex)
      } else {
        this.owner.onExchangeFailed(ex, new HttpError('closed', 'connection closed after a response body was left unread'), ex.spec.idempotent)
      }
    }
  }

  /** The oldest in-flight request's response was read to its end. */
  answered(): void {
    const ex = this.inflight.shift()!
    // The last written request is answered: what was gathered meanwhile goes out.
    if (this.writer.queuedRequests > 0 && this.inflight.length <= this.writer.queuedRequests) this.writer.scheduleFlush()
    if (!ex.spec.idempotent) this.unsafeInflight--
    this.served++
    ex.conn = null
    ex.active = false
    if (!this.keepAlive) {
      if (this.inflight.length === 0) this.close(this.closeReason)
      else this.abort('closed', 'server closed the connection after an earlier pipelined response', this.closeReason)
    } else if (this.inflight.length === 0) {
      this.owner.onReusable(this)
    } else {
      this.owner.onRoom(this)
    }
    ex.handler.onResponseComplete(ex)
  }
}
