/**
 * The options of a Transport and their checks (undici's style: a bad value is refused up front
 * with a message that names the option and what it accepts).
 */
import { InvalidArgumentError } from '../errors.js'
import type { TlsClientOptions } from './tls-dial.js'

/** Options of a Transport; the defaults are Go's DefaultTransport's. */
export interface TransportOptions {
  /** Idle connections kept per host (Go's DefaultMaxIdleConnsPerHost: 2). */
  maxIdleConnsPerHost?: number
  /** Idle connections kept in all; 0 = no limit (default 100). */
  maxIdleConns?: number
  /** Connections per host, dialling + active + idle; 0 = no limit (default). */
  maxConnsPerHost?: number
  /** Close a connection idle this long, in ms (default 90 000); 0 = never. */
  idleConnTimeout?: number
  /** One request per connection: sends `Connection: close` and never pools. */
  disableKeepAlives?: boolean
  /** Connect timeout in ms (default 30 000, Go's dialer); 0 = none. */
  connectTimeout?: number
  /** Time allowed from a written request to its response head, in ms; 0 = none (default). */
  responseHeaderTimeout?: number
  /** Whole-request timeout in ms, from dispatch to the end of the body; 0 = none (default). */
  requestTimeout?: number
  /** How long to wait for 100 Continue before sending the body anyway, ms (default 1000). */
  expectContinueTimeout?: number
  /** Idempotent requests in flight per connection (HTTP pipelining); 1 = none (default). */
  pipeline?: number
  /**
   * Pipelined connections read several responses per wake-up, with SO_RCVLOWAT, once the
   * responses are seen to be of one size (default true; Linux, with the addon built).
   */
  batchReads?: boolean
  /** TLS settings for https targets (SNI, trust, resumption, key log). */
  tls?: TlsClientOptions
}

/** Checks a numeric option. */
export function option(options: TransportOptions, name: keyof TransportOptions, fallback: number, min = 0): number {
  const v = options[name]
  if (v === undefined) return fallback
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || Math.floor(v) !== v) {
    throw new InvalidArgumentError(`invalid ${name}: ${String(v)} (expected an integer >= ${min})`)
  }
  return v
}

