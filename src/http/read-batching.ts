/**
 * ReadBatching: how a pipelined connection asks the kernel to wake it for several responses at
 * once. A pipelined load's responses arrive one small segment at a time, and a client that reads
 * as soon as anything is there reads one or two of them per read(); each read that empties the
 * receive queue after small pushed segments makes the kernel send a pure ACK (tcp_cleanup_rbuf).
 * So once two reads in a row have shown the responses to be of one size, SO_RCVLOWAT (socket(7))
 * asks for a wake-up only when the responses still owed add up to that many bytes, at most
 * LOWAT_CAP. The measurements behind this are in docs/performance.md, "Read batching".
 */
import { rcvLowatSetter } from './socket-options.js'

/**
 * The highest wake-up mark. It stays below the kernel's smallest receive-MSS estimate (536):
 * above it the kernel ACKs from the sender's softirq instead (__tcp_ack_snd_check), which on
 * loopback bills the server.
 */
const LOWAT_CAP = 512
/**
 * A response smaller than expected can leave the mark unmet: after this long without a read the
 * transport's sweeper sets it back to 1 byte (a FIN or a reset always wakes the reader).
 */
const LOWAT_STALL_MS = 5

let setRcvLowat: ((fd: number, bytes: number) => number) | null | undefined

/** The read batching state of one connection. */
export class ReadBatching {
  /** The socket's SO_RCVLOWAT. */
  private lowat = 1
  /** The response size the last two reads agreed on (0: none). */
  private responseSize = 0
  /** When the last read came (the transport's clock). */
  private lastReadAt = 0

  constructor(private readonly fd: () => number) {}

  /**
   * After a read of `nread` bytes that completed `completed` responses with the parser between
   * responses (`idle`), sets the mark for the `owed` responses still to come.
   */
  afterRead(nread: number, completed: number, idle: boolean, owed: number, now: number): void {
    this.lastReadAt = now
    let want = 1
    if (completed > 0 && idle && nread % completed === 0) {
      const size = nread / completed
      if (size === this.responseSize && owed > 0) want = Math.min(LOWAT_CAP, owed * size)
      this.responseSize = size
    } else {
      this.responseSize = 0
    }
    if (want !== this.lowat) this.set(want)
  }

  /** Lowers a mark that has gone unmet for LOWAT_STALL_MS. */
  checkStall(now: number): void {
    if (this.lowat > 1 && now - this.lastReadAt > LOWAT_STALL_MS) this.set(1)
  }

  private set(bytes: number): void {
    if (setRcvLowat === undefined) setRcvLowat = rcvLowatSetter()
    const fd = this.fd()
    if (setRcvLowat === null || fd < 0) return
    if (setRcvLowat(fd, bytes) === 0) this.lowat = bytes
  }
}
