/**
 * How connections and requests fail: why a connection closed (the report counts each reason),
 * the error kind of a socket error, and whether a failed request may be retried (Go's rules).
 */
import type { HttpErrorKind } from '../errors.js'
import type { Exchange } from './exchange.js'

/** Why a connection was closed; the report counts each. */
export type CloseReason =
  | 'server-close' // the response said Connection: close, or was HTTP/1.0 without keep-alive
  | 'read-until-close' // the body was delimited by the end of the connection
  | 'server-closed-idle' // the server closed the connection while it sat idle in the pool
  | 'server-closed' // the server closed or reset the connection with a request in flight
  | 'idle-pool-full' // returned while maxIdleConnsPerHost connections were already idle
  | 'idle-evicted' // the oldest idle connection, evicted to honour maxIdleConns
  | 'idle-timeout' // idle longer than idleConnTimeout or the server's Keep-Alive timeout
  | 'keepalive-disabled' // disableKeepAlives
  | 'error' // a read/write error, a malformed response, a timeout, an abandoned body
  | 'dial-failed' // the connection attempt failed
  | 'body-not-read' // the caller did not read the response body (Go: Body.Close before EOF)
  | 'shutdown' // the transport was closed

/** Node error codes on an established connection, mapped to error kinds. */
export function kindOfSocketError(err: NodeJS.ErrnoException): HttpErrorKind {
  switch (err.code) {
    case 'ECONNRESET': return 'reset'
    case 'EPIPE': return 'reset'
    case 'ETIMEDOUT': return 'timeout'
    default: return 'io'
  }
}

/** Node error codes while connecting, mapped to error kinds. */
export function kindOfDialError(err: NodeJS.ErrnoException): HttpErrorKind {
  switch (err.code) {
    case 'ECONNREFUSED': return 'connect-refused'
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME': return 'dns'
    case 'ETIMEDOUT': return 'connect-timeout'
    default: return 'connect'
  }
}

/**
 * Go's shouldRetryRequest for the exchange at the head of the line: never on a fresh connection;
 * otherwise only idempotent requests, and only when the server sent no byte of a response
 * (it closed or reset a connection it had kept idle: errServerClosedIdle).
 */
export function shouldRetry(ex: Exchange, gotResponseBytes: boolean, kind: HttpErrorKind): boolean {
  if (!ex.reused) return false
  if (!ex.spec.idempotent) return false
  if (gotResponseBytes) return false
  return kind === 'closed' || kind === 'reset' || kind === 'io'
}
