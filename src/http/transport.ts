/**
 * Transport: netkit's HTTP/1.1 client connection pool, modeled on Go's net/http Transport.
 * Pool keyed by scheme+host+port; the most recently used idle connection is taken first; a
 * connection coming back goes to a waiting request before it is parked idle; at most
 * maxIdleConnsPerHost idle per host and maxIdleConns in all (the oldest evicted); at most
 * maxConnsPerHost dialling+active+idle per host, extra requests queue; idle connections close
 * after idleConnTimeout (or the server's Keep-Alive timeout, if shorter); failed requests are
 * retried by Go's rules (see connection.ts). See: https://pkg.go.dev/net/http#Transport
 */
import { TlsStats, type TlsClientOptions } from './tls-dial.js'
import { HttpError } from '../errors.js'
import { Connection, type CloseReason, type ConnectionOwner } from './connection.js'
import { Exchange, type ExchangeHandler } from './exchange.js'
import { HostPool } from './host-pool.js'
import { IdleLru } from './idle-lru.js'
import { ReadContext } from './read-context.js'
import { parseHeaderBlock, reasonPhrase } from './response-parser.js'
import { RequestSpec, type RequestOptions, type Target } from './request-spec.js'
import { TransportStats } from './transport-stats.js'
import { option, type TransportOptions } from './transport-options.js'

export type { TransportOptions }

/** A response read in full by `Transport.request`. */
export interface HttpResponse {
  status: number
  statusText: string
  /** '1.1' or '1.0'. */
  httpVersion: string
  /** Header fields in order, names as sent. */
  headers: Array<[string, string]>
  /** Trailer fields of a chunked body. */
  trailers: Array<[string, string]>
  body: Buffer
  /** Whether the connection had served an earlier request. */
  reused: boolean
  /** 1, or more when the request was retried. */
  attempts: number
  /** The first value of a header field (case-insensitive), or undefined. */
  header(name: string): string | undefined
}

/** Most attempts for one request (Go has no bound; a bound keeps a broken server from looping). */
const MAX_ATTEMPTS = 10

/** netkit's HTTP/1.1 keep-alive transport. */
export class Transport implements ConnectionOwner {
  readonly maxIdleConnsPerHost: number
  readonly maxIdleConns: number
  readonly maxConnsPerHost: number
  readonly idleConnTimeout: number
  readonly disableKeepAlives: boolean
  readonly connectTimeout: number
  readonly responseHeaderTimeout: number
  readonly requestTimeout: number
  readonly expectContinueTimeout: number
  readonly pipeline: number
  readonly batchReads: boolean
  /** TLS settings for https targets. */
  readonly tls: TlsClientOptions
  /** Handshake figures of https connections. */
  readonly tlsStats = new TlsStats()
  /** Connection counters. */
  readonly stats = new TransportStats()
  /** The read buffer, clock and deferred writes of this transport's connections. */
  readonly io = new ReadContext()
  private readonly pools = new Map<string, HostPool>()
  private readonly lru = new IdleLru()
  private sweeper: NodeJS.Timeout | null = null
  private closing = false

  constructor(options: TransportOptions = {}) {
    this.maxIdleConnsPerHost = option(options, 'maxIdleConnsPerHost', 2)
    this.maxIdleConns = option(options, 'maxIdleConns', 100)
    this.maxConnsPerHost = option(options, 'maxConnsPerHost', 0)
    this.idleConnTimeout = option(options, 'idleConnTimeout', 90_000)
    this.disableKeepAlives = options.disableKeepAlives === true
    this.connectTimeout = option(options, 'connectTimeout', 30_000)
    this.responseHeaderTimeout = option(options, 'responseHeaderTimeout', 0)
    this.requestTimeout = option(options, 'requestTimeout', 0)
    this.expectContinueTimeout = option(options, 'expectContinueTimeout', 1000)
    this.pipeline = option(options, 'pipeline', 1, 1)
    this.batchReads = options.batchReads !== false
    this.tls = options.tls ?? {}
  }

  /** The transport's clock (performance.now() ms; held while one read's responses are handled). */
  now(): number {
    return this.io.now()
  }

  /** Serializes a request for this transport (adds `Connection: close` when keep-alives are off). */
  prepare(options: RequestOptions): RequestSpec {
    return new RequestSpec(options, { connectionClose: this.disableKeepAlives })
  }

  /** Sends a request and reads the whole response. Rejects with HttpError (`kind` says how). */
  request(options: RequestOptions & { timeout?: number }): Promise<HttpResponse> {
    const spec = this.prepare(options)
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = []
      let headers: Array<[string, string]> = []
      let trailers: Array<[string, string]> = []
      let statusText = ''
      let httpVersion = '1.1'
      const handler: ExchangeHandler = {
        onResponseHead(_ex, block, start, end) {
          headers = parseHeaderBlock(block, start, end, true)
          statusText = reasonPhrase(block, start)
          httpVersion = block.toString('latin1', start + 5, start + 8)
        },
        onResponseBody(_ex, chunk, start, end) {
          chunks.push(Buffer.from(chunk.subarray(start, end))) // the read buffer is reused
        },
        onResponseTrailers(_ex, block, start, end) {
          trailers = parseHeaderBlock(block, start, end, false)
        },
        onResponseComplete(ex) {
          resolve({
            status: ex.status, statusText, httpVersion, headers, trailers, body: Buffer.concat(chunks),
            reused: ex.reused, attempts: ex.attempt,
            header(name: string) {
              const lower = name.toLowerCase()
              return headers.find(([k]) => k.toLowerCase() === lower)?.[1]
            },
          })
        },
        onError(_ex, err) {
          reject(err)
        },
      }
      const ex = new Exchange(spec, handler)
      if (options.timeout !== undefined && options.timeout > 0) ex.deadline = this.now() + options.timeout
      this.dispatch(ex)
    })
  }

  /**
   * Starts an exchange (the allocation-free path the load generator uses). The outcome arrives
   * on `ex.handler`, never synchronously inside this call for a successful response.
   */
  dispatch(ex: Exchange): void {
    if (this.closing) {
      ex.handler.onError(ex, new HttpError('aborted', 'transport is closed'))
      return
    }
    ex.active = true
    if (ex.deadline === 0 && this.requestTimeout > 0) ex.deadline = this.now() + this.requestTimeout
    if (this.sweeper === null) this.startSweeper()
    this.getConn(this.poolFor(ex.spec.target), ex)
  }

  /** Stops a waiting or in-flight exchange without reporting it (the caller gave up on it). */
  cancel(ex: Exchange): void {
    if (!ex.active) return
    ex.active = false
    const conn = ex.conn
    if (conn === null) {
      this.poolFor(ex.spec.target).removeWaiter(ex)
      return
    }
    conn.cancel(ex)
  }

  /** Closes idle connections and aborts everything in flight; the transport cannot be used after. */
  close(): void {
    this.closing = true
    if (this.sweeper) clearInterval(this.sweeper)
    this.sweeper = null
    for (const pool of this.pools.values()) {
      for (const ex of pool.takeAllWaiters()) this.fail(ex, new HttpError('aborted', 'transport closed'))
      for (const conn of [...pool.conns]) conn.shutdown()
    }
  }

  /** Closes the idle connections only (Go's CloseIdleConnections). */
  closeIdleConnections(): void {
    for (const pool of this.pools.values()) for (const conn of [...pool.idle]) conn.close('shutdown')
  }

  /** Connection counts of one host: dialling, active, idle. */
  connCounts(target: Target): { dialing: number; active: number; idle: number; waiting: number } {
    const pool = this.pools.get(target.key)
    if (!pool) return { dialing: 0, active: 0, idle: 0, waiting: 0 }
    return { dialing: pool.dialing, active: pool.conns.length - pool.dialing - pool.idle.length, idle: pool.idle.length, waiting: pool.waiters.length }
  }

  private poolFor(target: Target): HostPool {
    let pool = this.pools.get(target.key)
    if (pool === undefined) {
      pool = new HostPool(target)
      this.pools.set(target.key, pool)
    }
    return pool
  }

  /** Go's getConn: an idle connection (MRU), a pipelinable one, or wait (dialling if needed). */
  private getConn(pool: HostPool, ex: Exchange): void {
    const t = this.now()
    for (let conn = pool.takeIdle(); conn !== undefined; conn = pool.takeIdle()) {
      this.lru.remove(conn)
      if (conn.idleDeadline > 0 && t >= conn.idleDeadline) {
        conn.close('idle-timeout')
        continue
      }
      this.send(conn, ex)
      return
    }
    if (this.pipeline > 1 && ex.spec.idempotent && !ex.spec.expectContinue) {
      for (let i = 0; i < pool.conns.length; i++) {
        const conn = pool.conns[i]
        if (conn.canPipeline(this.pipeline)) {
          this.send(conn, ex)
          return
        }
      }
    }
    pool.addWaiter(ex)
    this.maybeDial(pool)
  }

  /**
   * Dials while waiters outnumber what the dials in flight will serve and the per-host limit
   * allows. Unlike Go, a request does not start a dial of its own when a dial whose requester was
   * already served by a returned connection is still in flight: that dial will serve it, so no
   * connection is opened only to be closed as surplus.
   */
  private maybeDial(pool: HostPool): void {
    while (pool.waiters.length > pool.dialing * this.pipeline &&
           (this.maxConnsPerHost === 0 || pool.conns.length < this.maxConnsPerHost) && !this.closing) {
      this.stats.dials++
      pool.addDial(new Connection(this, pool, this.connectTimeout))
    }
  }

  private send(conn: Connection, ex: Exchange): void {
    if (conn.served > 0) this.stats.reused++
    else this.stats.fresh++
    conn.send(ex)
  }

  /** Gives a free connection to waiters (oldest first) before parking it idle. */
  private putConn(conn: Connection): void {
    const pool = conn.pool
    while (pool.waiters.length > 0) {
      this.send(conn, pool.takeWaiter()!)
      if (conn.closed || !(this.pipeline > 1 && conn.canPipeline(this.pipeline))) return
      if (!pool.waiters[0]?.spec.idempotent) return
    }
    if (conn.inflight.length > 0) return
    if (this.disableKeepAlives || this.closing) {
      conn.close('keepalive-disabled')
      return
    }
    if (pool.idle.length >= this.maxIdleConnsPerHost) {
      conn.close('idle-pool-full')
      return
    }
    let timeout = this.idleConnTimeout
    // The server's Keep-Alive hint: stop using the connection a little before it would close it.
    if (conn.keepAliveHintMs > 0) {
      const hinted = conn.keepAliveHintMs - Math.min(1000, conn.keepAliveHintMs / 4)
      timeout = timeout === 0 ? hinted : Math.min(timeout, hinted)
    }
    conn.park(timeout > 0 ? this.now() + timeout : 0)
    pool.addIdle(conn)
    this.lru.add(conn)
    if (this.maxIdleConns > 0 && this.lru.size > this.maxIdleConns) {
      const oldest = this.lru.oldest()!
      oldest.close('idle-evicted')
    }
  }

  private fail(ex: Exchange, err: HttpError): void {
    if (!ex.active) return
    ex.active = false
    ex.conn = null
    ex.handler.onError(ex, err)
  }

  private startSweeper(): void {
    const timeouts = [this.connectTimeout, this.responseHeaderTimeout, this.requestTimeout, this.expectContinueTimeout].filter((t) => t > 0)
    const finest = timeouts.length > 0 ? Math.min(...timeouts) : 1000
    let tick = Math.max(5, Math.min(100, Math.floor(finest / 10)))
    // A batched read's wake-up mark that a smaller response left unmet is lowered on a tick.
    if (this.pipeline > 1 && this.batchReads) tick = Math.min(tick, 10)
    this.sweeper = setInterval(() => this.sweep(), tick)
    this.sweeper.unref()
  }

  /** Enforces deadlines: connect, response head, whole request (also while queued), idle. */
  private sweep(): void {
    const t = this.now()
    for (const pool of this.pools.values()) {
      for (let i = pool.waiters.length - 1; i >= 0; i--) {
        const ex = pool.waiters[i]
        if (ex.deadline > 0 && t >= ex.deadline) {
          pool.removeWaiter(ex)
          const t = pool.target
          if (pool.dialing > 0) this.fail(ex, new HttpError('connect-timeout', `timed out connecting to ${t.host}:${t.port}`))
          else this.fail(ex, new HttpError('timeout', 'request timed out waiting for a free connection (maxConnsPerHost)'))
        }
      }
      for (let i = pool.conns.length - 1; i >= 0; i--) {
        const conn = pool.conns[i]
        if (conn === undefined) continue
        if (conn.isIdle) {
          if (conn.idleDeadline > 0 && t >= conn.idleDeadline) conn.close('idle-timeout')
          else conn.unrefIfIdle()
        } else {
          conn.checkDeadlines(t)
        }
      }
    }
  }

  // ConnectionOwner

  onConnected(conn: Connection): void {
    conn.pool.dialEnded()
    this.stats.connected++
    this.putConn(conn)
  }

  onDialFailed(conn: Connection, err: HttpError): void {
    this.stats.dialFailures++
    const pool = conn.pool
    // The failed dial was someone's: fail the oldest waiter the remaining dials cannot serve,
    // if it was already waiting when this dial started (a request that came later gets a dial
    // of its own rather than an error from a connection attempt it never made, as in Go).
    const first = pool.waiters[0]
    if (first !== undefined && first.waitSeq <= conn.dialSeq && pool.waiters.length > pool.dialing * this.pipeline) {
      pool.takeWaiter()
      this.fail(first, err)
    }
    this.maybeDial(pool)
  }

  onReusable(conn: Connection): void {
    this.putConn(conn)
  }

  onRoom(conn: Connection): void {
    const pool = conn.pool
    while (pool.waiters.length > 0 && pool.waiters[0].spec.idempotent && conn.canPipeline(this.pipeline)) {
      this.send(conn, pool.takeWaiter()!)
    }
  }

  onClosed(conn: Connection, reason: CloseReason, wasDialing: boolean): void {
    this.stats.closed[reason]++
    const pool = conn.pool
    if (wasDialing) pool.dialEnded()
    pool.removeConn(conn)
    this.lru.remove(conn)
    // A slot is free: waiters blocked by maxConnsPerHost may dial now.
    if (reason !== 'dial-failed') this.maybeDial(pool)
  }

  onExchangeFailed(ex: Exchange, err: HttpError, retryable: boolean): void {
    if (!ex.active) return
    const t = this.now()
    if (retryable && ex.attempt < MAX_ATTEMPTS && !this.closing && (ex.deadline === 0 || t < ex.deadline)) {
      ex.attempt++
      ex.status = 0
      ex.bodyBytes = 0
      ex.headDeadline = 0
      ex.continueDeadline = 0
      ex.bodyHeld = false
      this.stats.retried++
      this.getConn(this.poolFor(ex.spec.target), ex)
      return
    }
    this.fail(ex, err)
  }

  countBytes(sent: number, received: number): void {
    this.stats.bytesSent += sent
    if (received > 0) {
      this.stats.bytesReceived += received
      this.stats.reads++
    }
  }
}
