/**
 * HostPool: the per-key state of the transport's pool (Go's idleConn[key], idleConnWait[key],
 * connsPerHost[key] and connsPerHostWait[key] together): the idle connections, most recently used
 * last; every open connection; and the requests waiting for one.
 */
import type { Connection } from './connection.js'
import type { Exchange } from './exchange.js'
import type { Target } from './request-spec.js'

/** Connections and waiters for one scheme+host+port. */
export class HostPool {
  readonly target: Target
  /** Idle connections, most recently returned last (taken from the end: MRU first, as Go). */
  readonly idle: Connection[] = []
  /** Every connection: dialling, active and idle (what maxConnsPerHost counts). */
  readonly conns: Connection[] = []
  /** Requests waiting for a connection, oldest first. */
  readonly waiters: Exchange[] = []
  /** Connections still being dialled. */
  dialing = 0
  /** Counter giving each waiter its place (Exchange.waitSeq) and each dial its reach (dialSeq). */
  seq = 0

  constructor(target: Target) {
    this.target = target
  }

  /** Removes an idle connection from the idle list (it is being closed or handed out). */
  removeIdle(conn: Connection): void {
    const i = this.idle.lastIndexOf(conn)
    if (i >= 0) this.idle.splice(i, 1)
  }

  /** Removes a connection from the pool's bookkeeping. */
  removeConn(conn: Connection): void {
    const i = this.conns.indexOf(conn)
    if (i >= 0) this.conns.splice(i, 1)
  }

  /** Removes a waiter (its deadline passed or it was cancelled). */
  removeWaiter(ex: Exchange): boolean {
    const i = this.waiters.indexOf(ex)
    if (i < 0) return false
    this.waiters.splice(i, 1)
    return true
  }
}
