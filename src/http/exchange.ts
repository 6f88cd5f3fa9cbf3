/**
 * Exchange: one request on its way through the transport (waiting for a connection, written,
 * being answered), and ExchangeHandler, the callbacks that receive its outcome. A load generator
 * keeps one Exchange per worker and reuses it, so the hot path allocates nothing per request.
 */
import type { HttpError } from '../errors.js'
import type { Connection } from './connection.js'
import type { RequestSpec } from './request-spec.js'

/** Receives what happens to an exchange. */
export interface ExchangeHandler {
  /** The final response head arrived. `block[start, end)` is the raw head (valid only now). */
  onResponseHead?(ex: Exchange, block: Buffer, start: number, end: number): void
  /** Body bytes (de-chunked) `chunk[start, end)`; valid only during the call (copy to keep). */
  onResponseBody?(ex: Exchange, chunk: Buffer, start: number, end: number): void
  /** Trailer block of a chunked response (valid only during the call). */
  onResponseTrailers?(ex: Exchange, block: Buffer, start: number, end: number): void
  /** The response was read to its end; the connection has already gone back to the pool. */
  onResponseComplete(ex: Exchange): void
  /** The exchange failed for good (retries, if allowed, were already tried). */
  onError(ex: Exchange, err: HttpError): void
}

/** One request in flight. Reusable: `reset()` before each new request. */
export class Exchange {
  spec: RequestSpec
  handler: ExchangeHandler
  /** The connection it is on, or null while waiting for one. */
  conn: Connection | null = null
  /** 1 for the first try, 2 after one retry, ... */
  attempt = 1
  /** Absolute deadline (performance.now() ms) for the whole request, 0 = none. */
  deadline = 0
  /** Deadline for the response head once the request is written, 0 = none. */
  headDeadline = 0
  /** When to send the body anyway if no 100 Continue arrives, 0 = not waiting. */
  continueDeadline = 0
  /** The body is still held back, waiting for 100 Continue. */
  bodyHeld = false
  /** The connection had served an earlier request when this one got it (Go's GotConnInfo.Reused). */
  reused = false
  /** Status of the final response, 0 before its head arrives. */
  status = 0
  /** Body bytes received. */
  bodyBytes = 0
  /** Still owned by the transport (not completed, failed or cancelled). */
  active = false
  /** Order in which it started waiting for a connection (the pool's sequence). */
  waitSeq = 0
  /**
   * The caller reads the response body (default). When false, the exchange completes at the
   * response head and, as with a Go client that closes an unread body, a connection whose
   * response still has body bytes coming is closed, never reused ('body-not-read').
   */
  readBody = true

  constructor(spec: RequestSpec, handler: ExchangeHandler) {
    this.spec = spec
    this.handler = handler
  }

  /** Prepares the exchange for a new request. */
  reset(spec: RequestSpec = this.spec): void {
    this.spec = spec
    this.conn = null
    this.attempt = 1
    this.deadline = 0
    this.headDeadline = 0
    this.continueDeadline = 0
    this.bodyHeld = false
    this.reused = false
    this.status = 0
    this.bodyBytes = 0
    this.active = false
  }
}
