/**
 * FragmentTable: datagrams being put together from their fragments (IPv4, RFC 791 section 3.2;
 * IPv6, RFC 8200 section 4.5), for dissectors that reassemble as Wireshark does by default: the
 * datagram is handed on at the frame whose fragment completes it. Memory is bounded by live
 * state, not by the capture: datagrams not completed within `timeoutSec` of capture time (Linux's
 * ipfrag_time is 30 s) are dropped, and so are the oldest once more than `maxDatagrams` are open
 * or more than `maxBytes` are held.
 */

/** One fragment's bytes (a copy: the batch they came in is reused) and where it goes. */
interface Fragment {
  frame: number
  offset: number
  data: Buffer
}

/** A datagram whose fragments are still arriving. */
interface Pending {
  /** In offset order. */
  fragments: Fragment[]
  /** Length of the whole payload, known once the last fragment (no "more") arrived; -1 before. */
  total: number
  bytes: number
  firstSec: number
}

/** A datagram put together: its payload and the frames of its fragments, in offset order. */
export interface Reassembled {
  /** `headroom` free bytes, then the payload. */
  data: Buffer
  /** Length of the payload. */
  length: number
  frames: number[]
}

/** Bounds of a FragmentTable. */
export interface FragmentLimits {
  /** Datagrams in progress at once (default 4096). */
  maxDatagrams?: number
  /** Fragment bytes held in all (default 64 MiB). */
  maxBytes?: number
  /** Seconds of capture time a datagram may take to complete (default 30). */
  timeoutSec?: number
  /** Largest payload a datagram may have (default 65535: IPv4's and IPv6's limit without jumbograms). */
  maxDatagram?: number
  /** Bytes left before the payload in Reassembled.data, for the caller's own use (addresses). */
  headroom?: number
}

/** Completed datagrams remembered, so a duplicate fragment can name the frame that completed it. */
const MAX_COMPLETED = 4096
/**
 * Fragments one datagram may have: 65535 bytes in fragments of at least 32 bytes (an MTU of 68
 * leaves 48). Past it the datagram is given up, so hostile input cannot make checks quadratic.
 */
const MAX_FRAGMENTS = 2048

/** Reassembly state of one run, keyed by the dissector's own datagram key (addresses, id ...). */
export class FragmentTable {
  private readonly pending = new Map<string, Pending>()
  private readonly completed = new Map<string, number>()
  private held = 0
  private readonly maxDatagrams: number
  private readonly maxBytes: number
  private readonly timeoutSec: number
  private readonly maxDatagram: number
  private readonly headroom: number

  constructor(limits: FragmentLimits = {}) {
    this.maxDatagrams = limits.maxDatagrams ?? 4096
    this.maxBytes = limits.maxBytes ?? 64 * 1024 * 1024
    this.timeoutSec = limits.timeoutSec ?? 30
    this.maxDatagram = limits.maxDatagram ?? 65535
    this.headroom = limits.headroom ?? 0
  }

  /** Datagrams in progress and the bytes they hold (for tests and stats). */
  get size(): { datagrams: number; bytes: number } {
    return { datagrams: this.pending.size, bytes: this.held }
  }

  /** The frame that completed datagram `key`, or 0 when none did (or it was forgotten). */
  completedIn(key: string): number {
    return this.completed.get(key) ?? 0
  }

  /**
   * Adds the fragment `data[from, to)`, byte `offset` of datagram `key`'s payload (`more`: more
   * fragments follow), seen in `frame` at capture time `sec`. Returns the datagram when this
   * fragment completes it, else undefined. A fragment that would make the datagram larger than
   * maxDatagram is ignored (Wireshark's "too long fragment").
   */
  add(key: string, frame: number, sec: number, offset: number, data: Uint8Array, from: number, to: number, more: boolean): Reassembled | undefined {
    // A capture without timestamps (NaN) expires nothing by time; the size bounds still hold.
    const known = Number.isFinite(sec)
    if (known) this.expire(sec)
    const len = to - from
    if (len < 0 || offset + len > this.maxDatagram) return undefined
    let p = this.pending.get(key)
    if (p === undefined) {
      p = { fragments: [], total: -1, bytes: 0, firstSec: known ? sec : Infinity }
      this.pending.set(key, p)
    }
    if (p.fragments.length >= MAX_FRAGMENTS) {
      this.drop(key, p)
      return undefined
    }
    // Insert in offset order (fragments mostly arrive in order: found from the end).
    const frags = p.fragments
    let i = frags.length
    while (i > 0 && frags[i - 1].offset > offset) i--
    frags.splice(i, 0, { frame, offset, data: Buffer.from(data.subarray(from, to)) })
    p.bytes += len
    this.held += len
    if (!more && p.total < 0) p.total = offset + len
    // Complete needs at least `total` bytes: only then is coverage worth checking.
    const done = p.total >= 0 && p.bytes >= p.total ? this.assemble(p) : undefined
    if (done !== undefined) {
      this.drop(key, p)
      this.completed.set(key, frame)
      if (this.completed.size > MAX_COMPLETED) this.completed.delete(this.completed.keys().next().value!)
    }
    this.bound()
    return done
  }

  /** The payload when the fragments cover [0, total) without a gap, else undefined. */
  private assemble(p: Pending): Reassembled | undefined {
    const frags = p.fragments
    let covered = 0
    for (const f of frags) {
      if (f.offset > covered) return undefined
      covered = Math.max(covered, f.offset + f.data.length)
    }
    if (covered < p.total) return undefined
    const h = this.headroom
    const data = Buffer.alloc(h + p.total)
    // In offset order; where fragments overlap, the later offset's bytes stand.
    for (const f of frags) f.data.copy(data, h + f.offset, 0, Math.min(f.data.length, p.total - f.offset))
    return { data, length: p.total, frames: frags.map((f) => f.frame) }
  }

  private drop(key: string, p: Pending): void {
    this.pending.delete(key)
    this.held -= p.bytes
  }

  /** Drops datagrams that began more than timeoutSec before `sec` (the oldest are first in the map). */
  private expire(sec: number): void {
    for (const [key, p] of this.pending) {
      if (p.firstSec >= sec - this.timeoutSec) break
      this.drop(key, p)
    }
  }

  /** Drops the oldest datagrams while the table holds too many or too many bytes. */
  private bound(): void {
    for (const [key, p] of this.pending) {
      if (this.pending.size <= this.maxDatagrams && this.held <= this.maxBytes) break
      this.drop(key, p)
    }
  }
}
