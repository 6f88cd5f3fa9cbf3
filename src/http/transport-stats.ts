/**
 * TransportStats: the transport's connection counters. `dials` counts connection attempts, so it
 * is the number of SYNs the client sent (one per attempt, retransmissions aside): compare it with
 * the SYNs a capture sees on the wire.
 */
import type { CloseReason } from './connection.js'

/** Counters kept by a Transport (all cumulative). */
export class TransportStats {
  /** Connection attempts (TCP SYNs sent). */
  dials = 0
  /** Attempts that completed the handshake. */
  connected = 0
  /** Attempts that failed (refused, unreachable, timed out). */
  dialFailures = 0
  /** Requests written on a connection that had served an earlier one (Go's GotConnInfo.Reused). */
  reused = 0
  /** Requests written on a new connection. */
  fresh = 0
  /** Requests sent again after a failure Go's rules call retryable. */
  retried = 0
  /** Connections closed, by reason. */
  readonly closed: Record<CloseReason, number> = {
    'server-close': 0,
    'read-until-close': 0,
    'server-closed-idle': 0,
    'server-closed': 0,
    'idle-pool-full': 0,
    'idle-evicted': 0,
    'idle-timeout': 0,
    'keepalive-disabled': 0,
    error: 0,
    'dial-failed': 0,
    'body-not-read': 0,
    shutdown: 0,
  }
  /** Bytes written to and read from sockets. */
  bytesSent = 0
  bytesReceived = 0
  /** Socket reads that returned data. */
  reads = 0

  /** A plain-object copy (for JSON), leaving out close reasons that never happened. */
  toJSON(): Record<string, unknown> {
    const closed: Record<string, number> = {}
    for (const [k, v] of Object.entries(this.closed)) if (v > 0) closed[k] = v
    return {
      dials: this.dials,
      connected: this.connected,
      dialFailures: this.dialFailures,
      reused: this.reused,
      fresh: this.fresh,
      retried: this.retried,
      closed,
      bytesSent: this.bytesSent,
      bytesReceived: this.bytesReceived,
      reads: this.reads,
    }
  }
}
