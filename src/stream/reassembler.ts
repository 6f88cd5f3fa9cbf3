/**
 * Reassembler: one direction of a TCP conversation turned back into the byte stream its sender
 * wrote. Segments arrive in any order, retransmitted, overlapping, across the sequence-number
 * wrap; in-order bytes are handed on at once (without copying), later bytes are held (copied)
 * until the gap before them fills. Held bytes are capped per direction and in total (a shared
 * ReassemblyBudget); past a cap the gap is given up: the consumer is told, and the overflow
 * counted. Overlapping data: the bytes seen first win (as the receiver's stack would keep them).
 * See: RFC 9293 section 3.10.7.4 (segment arrives), Wireshark's "desegment" model.
 */

/** Receives a direction's bytes in order. */
export interface StreamSink {
  /** In-order bytes data[start, end), completed by frame `frame` at `time` (epoch seconds). */
  data(data: Buffer, start: number, end: number, frame: number, time: number): void
  /** `bytes` bytes before this point will never arrive (capture loss, or a cap gave up). */
  gap?(bytes: number, frame: number, time: number): void
  /** The sender closed its side (FIN, once every byte before it arrived), reset (RST), or the capture ended. */
  end?(how: 'fin' | 'rst' | 'eof', frame: number, time: number): void
}

/** Caps on bytes held for out-of-order data, shared by every direction of one capture. */
export class ReassemblyBudget {
  /** Bytes held now across all directions. */
  held = 0
  /** Gaps given up because a cap was reached. */
  overflows = 0
  /** Bytes dropped by those overflows. */
  overflowBytes = 0

  constructor(readonly perDirection = 4 << 20, readonly total = 256 << 20) {}
}

interface Held {
  seq: number
  data: Buffer
  frame: number
}

/** Signed distance a - b in sequence space (RFC 1982 serial arithmetic on 32 bits). */
export function seqDiff(a: number, b: number): number {
  return (a - b) | 0
}

/** One direction's reassembly state. */
export class Reassembler {
  /** Next sequence number expected, or -1 before the first segment. */
  next = -1
  /** Bytes handed on. */
  delivered = 0
  /** Sequence number of the FIN, once seen (-1 before). */
  private finSeq = -1
  private ended = false
  private held: Held[] = []
  private heldBytes = 0
  /** Time of the segment being handled (handed to the sink with its data). */
  private time = 0
  /** An ACK from the other side passed a gap (acked()): up to where, and whether still to settle. */
  private ackedTo = 0
  private ackedPending = false

  constructor(private readonly sink: StreamSink, private readonly budget: ReassemblyBudget) {}

  /** Bytes held waiting for a gap to fill. */
  get pending(): number {
    return this.heldBytes
  }

  /**
   * Takes one segment: its sequence number, TCP flags, and payload data[start, end) (which
   * stays the caller's: it is copied only if it must be held).
   */
  segment(seq: number, flags: number, data: Buffer, start: number, end: number, frame: number, time: number): void {
    this.time = time
    if (this.ended) return
    const SYN = 0x02
    const FIN = 0x01
    const RST = 0x04
    if (flags & SYN) {
      // The SYN occupies one sequence number; data may ride on it.
      if (this.next === -1 || this.delivered === 0) this.next = (seq + 1) >>> 0
      seq = (seq + 1) >>> 0
    } else if (this.next === -1) {
      this.next = seq // picked up mid-stream
    }
    const len = end - start
    if (flags & FIN) this.finSeq = (seq + len) >>> 0
    if (len > 0) this.accept(seq, data, start, end, frame)
    if (flags & RST) {
      this.ended = true
      this.dropHeld()
      this.sink.end?.('rst', frame, this.time)
      return
    }
    this.settleAcked(frame, time)
    this.checkFin(frame)
  }

  /**
   * The other side acknowledged everything before `ack`. Bytes of this direction that were
   * acknowledged but never seen were received by the peer and lost only to the capture (what
   * Wireshark flags as "ACKed unseen segment"): they will not come. The gap is given up at the
   * next segment of the conversation that does not fill it, not at the ACK itself: a capture
   * can show an ACK before the segment it covers (merged or multi-queue captures), and that
   * segment must still fill its gap. Until then later data is held as for any gap.
   */
  acked(ack: number, frame: number, time: number): void {
    if (this.ended) return
    this.settleAcked(frame, time)
    if (this.next === -1 || seqDiff(ack, this.next) <= 0) return
    // Only a gap counts: data held after it, or a FIN seen past it.
    if (this.held.length > 0 || (this.finSeq !== -1 && seqDiff(this.finSeq, this.next) > 0)) {
      this.ackedTo = ack
      this.ackedPending = true
    }
  }

  /** Gives up, now, a gap an earlier ACK covered and nothing since has filled. */
  private settleAcked(frame: number, time: number): void {
    if (!this.ackedPending) return
    this.ackedPending = false
    const ack = this.ackedTo
    this.time = time
    // Every gap the ACK covers goes: held data after one may end at another.
    while (this.held.length > 0 && seqDiff(ack, this.next) > 0) {
      if (seqDiff(ack, this.held[0].seq) >= 0) {
        this.skipToHeld(frame)
        continue
      }
      // Part of the gap is acknowledged: that part is lost; the rest may still arrive.
      this.sink.gap?.(seqDiff(ack, this.next), frame, this.time)
      this.next = ack
    }
    // Bytes lost before a FIN the peer acknowledged: the direction ends at the FIN.
    if (this.held.length === 0 && this.finSeq !== -1 && seqDiff(this.finSeq, this.next) > 0 && seqDiff(ack, this.finSeq) >= 0) {
      this.sink.gap?.(seqDiff(this.finSeq, this.next), frame, this.time)
      this.next = this.finSeq
    }
    this.checkFin(frame)
  }

  /** Flushes at the end of the capture: held data after a gap is handed on past the gap. */
  finish(frame: number, time: number): void {
    if (this.ended) return
    this.time = time
    while (this.held.length > 0) this.skipToHeld(frame)
    this.checkFin(frame)
    if (!this.ended) {
      this.ended = true
      this.sink.end?.('eof', frame, time)
    }
  }

  /** True once the direction has ended (FIN in order, RST, or finish()). */
  get closed(): boolean {
    return this.ended
  }

  private accept(seq: number, data: Buffer, start: number, end: number, frame: number): void {
    const d = seqDiff(seq, this.next)
    if (d <= 0) {
      // Starts at or before what we expect: drop what we already have (retransmission/overlap).
      if (-d >= end - start) return
      start += -d
      this.deliver(data, start, end, frame)
      this.drain(frame)
      return
    }
    // A gap before it: hold a copy, unless that would pass a cap.
    const len = end - start
    if (this.heldBytes + len > this.budget.perDirection || this.budget.held + len > this.budget.total) {
      this.budget.overflows++
      this.budget.overflowBytes += d
      this.sink.gap?.(d, frame, this.time)
      this.next = seq
      this.deliver(data, start, end, frame)
      this.drain(frame)
      return
    }
    const copy = Buffer.from(data.subarray(start, end))
    // Insert sorted by sequence number (usually at the end: a few segments out of order).
    let i = this.held.length
    while (i > 0 && seqDiff(this.held[i - 1].seq, seq) > 0) i--
    this.held.splice(i, 0, { seq, data: copy, frame })
    this.heldBytes += len
    this.budget.held += len
  }

  private deliver(data: Buffer, start: number, end: number, frame: number): void {
    if (end <= start) return
    this.next = (this.next + (end - start)) >>> 0
    this.delivered += end - start
    this.sink.data(data, start, end, frame, this.time)
  }

  /** Hands on held segments that have become in order. */
  private drain(frame: number): void {
    while (this.held.length > 0) {
      const h = this.held[0]
      const d = seqDiff(h.seq, this.next)
      if (d > 0) return
      this.held.shift()
      this.heldBytes -= h.data.length
      this.budget.held -= h.data.length
      if (-d < h.data.length) this.deliver(h.data, -d, h.data.length, Math.max(frame, h.frame))
    }
  }

  private skipToHeld(frame: number): void {
    const h = this.held[0]
    const gap = seqDiff(h.seq, this.next)
    if (gap > 0) {
      this.sink.gap?.(gap, frame, this.time)
      this.next = h.seq
    }
    this.drain(frame)
  }

  private dropHeld(): void {
    this.budget.held -= this.heldBytes
    this.heldBytes = 0
    this.held = []
  }

  private checkFin(frame: number): void {
    if (this.finSeq !== -1 && this.held.length === 0 && seqDiff(this.next, this.finSeq) >= 0 && !this.ended) {
      this.ended = true
      this.sink.end?.('fin', frame, this.time)
    }
  }
}
