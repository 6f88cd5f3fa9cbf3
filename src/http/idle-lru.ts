/**
 * IdleLru: every idle connection of the transport, across hosts, oldest first (Go's idleLRU), so
 * that maxIdleConns can evict the connection that has been idle longest in O(1).
 */
import type { Connection } from './connection.js'

/** A doubly linked list threaded through the connections' lruPrev/lruNext. */
export class IdleLru {
  private head: Connection | null = null
  private tail: Connection | null = null
  /** Number of connections in the list. */
  size = 0

  /** Adds a connection as the newest. */
  add(conn: Connection): void {
    conn.lruPrev = this.tail
    conn.lruNext = null
    if (this.tail) this.tail.lruNext = conn
    else this.head = conn
    this.tail = conn
    this.size++
  }

  /** Removes a connection if it is in the list. */
  remove(conn: Connection): void {
    if (conn.lruPrev === null && conn.lruNext === null && this.head !== conn) return
    if (conn.lruPrev) conn.lruPrev.lruNext = conn.lruNext
    else this.head = conn.lruNext
    if (conn.lruNext) conn.lruNext.lruPrev = conn.lruPrev
    else this.tail = conn.lruPrev
    conn.lruPrev = null
    conn.lruNext = null
    this.size--
  }

  /** The connection idle longest, or null. */
  oldest(): Connection | null {
    return this.head
  }
}
