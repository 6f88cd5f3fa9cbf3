/**
 * HostPool: the per-key state of the transport's pool (Go's idleConn[key], idleConnWait[key],
 * connsPerHost[key] and connsPerHostWait[key] together): the idle connections, most recently used
 * last; every open connection; and the requests waiting for one. Only its methods change them.
 */
import type { Connection } from './connection.js'
import type { Exchange } from './exchange.js'
import type { Target } from './request-spec.js'

/** Connections and waiters for one scheme+host+port. */
export class HostPool {
  readonly target: Target
  /** The last TLS session a connection to this host was given, offered on the next dial. */
  tlsSession: Buffer | undefined
  /** Idle connections, most recently returned last (taken from the end: MRU first, as Go). */
  private readonly idleList: Connection[] = []
  /** Every connection: dialling, active and idle (what maxConnsPerHost counts). */
  private readonly connList: Connection[] = []
  /** Requests waiting for a connection, oldest first. */
  private readonly waitList: Exchange[] = []
  /** Connections still being dialled. */
  private dialCount = 0
  /** Counter giving each waiter its place (Exchange.waitSeq) and each dial its reach (dialSeq). */
  private seq = 0

  constructor(target: Target) {
    this.target = target
  }

  /** Every open connection (dialling, active, idle). */
  get conns(): readonly Connection[] { return this.connList }
  /** The idle connections, most recently used last. */
  get idle(): readonly Connection[] { return this.idleList }
  /** The waiting requests, oldest first. */
  get waiters(): readonly Exchange[] { return this.waitList }
  /** Connections still being dialled. */
  get dialing(): number { return this.dialCount }

  /** Takes the most recently used idle connection, or undefined. */
  takeIdle(): Connection | undefined {
    return this.idleList.pop()
  }

  /** Parks a connection as the most recently used idle one. */
  addIdle(conn: Connection): void {
    this.idleList.push(conn)
  }

  /** Queues a request for a connection, giving it the next place. */
  addWaiter(ex: Exchange): void {
    ex.waitSeq = ++this.seq
    this.waitList.push(ex)
  }

  /** Takes the oldest waiter, or undefined. */
  takeWaiter(): Exchange | undefined {
    return this.waitList.shift()
  }

  /** Takes every waiter. */
  takeAllWaiters(): Exchange[] {
    return this.waitList.splice(0)
  }

  /** Removes a waiter (its deadline passed or it was cancelled). */
  removeWaiter(ex: Exchange): boolean {
    const i = this.waitList.indexOf(ex)
    if (i < 0) return false
    this.waitList.splice(i, 1)
    return true
  }

  /** Adds a connection being dialled; it was dialled for the waiters queued so far. */
  addDial(conn: Connection): void {
    this.dialCount++
    conn.dialSeq = this.seq
    this.connList.push(conn)
  }

  /** A dial finished (connected or failed). */
  dialEnded(): void {
    this.dialCount--
  }

  /** Forgets a closed connection. */
  removeConn(conn: Connection): void {
    const i = this.connList.indexOf(conn)
    if (i >= 0) this.connList.splice(i, 1)
    const j = this.idleList.lastIndexOf(conn)
    if (j >= 0) this.idleList.splice(j, 1)
  }
}
