/**
 * Conn: one TCP or UDP connection as Zeek's conn.log describes it: each endpoint's state (Zeek's
 * TCP_INACTIVE ... TCP_RESET, UDP_INACTIVE/UDP_ACTIVE), the history letters, and the
 * conn_state derived from the two states by Zeek's rules (base/protocols/conn/main.zeek,
 * conn_state()). History letters (main.zeek, Conn::Info$history): S a SYN without ACK, H a
 * SYN+ACK, A a pure ACK, D payload, F FIN, R RST, I FIN+RST, Q SYN with FIN or RST, T a
 * retransmitted payload, G a gap, W a zero window, ^ direction flipped; upper case from the
 * originator, lower case from the responder. A, D, I and Q show once per direction; S, H, F and
 * R again only when the sequence number differs from the last one with that flag; G, T and W
 * logarithmically (after 1, 10, 100 ... occurrences).
 */

/** Zeek's endpoint states. */
export const EndpointState = {
  INACTIVE: 0, SYN_SENT: 1, SYN_ACK_SENT: 2, PARTIAL: 3, ESTABLISHED: 4, CLOSED: 5, RESET: 6,
  /** UDP: the endpoint sent something. */
  UDP_ACTIVE: 7,
} as const

const FIN = 0x01
const SYN = 0x02
const RST = 0x04
const ACK = 0x10

/** Letters recorded at most once (their bit in Endpoint.once). */
const ONCE = { A: 1, D: 2, I: 4, Q: 8 } as const
/** Letters recorded again when the sequence number changes (index into Endpoint.lastSeq). */
const SEQ_LETTER = { S: 0, H: 1, F: 2, R: 3 } as const
/** Letters recorded logarithmically (index into Endpoint.counts/next). */
const LOG_LETTER = { G: 0, T: 1, W: 2 } as const

/** One side of a connection. */
export class Endpoint {
  state: number = EndpointState.INACTIVE
  pkts = 0
  ipBytes = 0
  /** UDP: payload bytes. TCP: see size(). */
  payload = 0
  /** First sequence number of data (the SYN's + 1), and the highest end of data seen; -1 unset. */
  startSeq = -1
  maxEnd = -1
  missed = 0
  once = 0
  readonly lastSeq = [-1, -1, -1, -1]
  readonly counts = [0, 0, 0]
  readonly next = [1, 1, 1]

  /** Bytes sent (Zeek's size): the span of sequence space carrying data for TCP, payload for UDP. */
  size(proto: number): number {
    if (proto !== 6) return this.payload
    return this.startSeq === -1 || this.maxEnd === -1 ? 0 : (this.maxEnd - this.startSeq) >>> 0
  }
}

/** Signed distance a - b in 32-bit sequence space (RFC 9293 section 3.4). */
function seqDiff(a: number, b: number): number {
  return (a - b) | 0
}

/** A connection's state, counters and history. */
export class Conn {
  readonly orig = new Endpoint()
  readonly resp = new Endpoint()
  history = ''
  /** Application protocol seen in it (Zeek's service), '' when none. */
  service = ''
  lastSec = 0
  lastNsec = 0

  constructor(
    /** 6 or 17. */
    readonly proto: number,
    readonly origAddr: Buffer,
    readonly origPort: number,
    readonly respAddr: Buffer,
    readonly respPort: number,
    readonly firstSec: number,
    readonly firstNsec: number,
    /** True when Zeek's heuristic swapped the endpoints (a first packet that was a SYN+ACK). */
    flipped: boolean,
  ) {
    this.lastSec = firstSec
    this.lastNsec = firstNsec
    if (flipped) this.history = '^'
  }

  private letter(fromOrig: boolean, c: string): void {
    this.history += fromOrig ? c : c.toLowerCase()
  }

  private onceLetter(e: Endpoint, fromOrig: boolean, c: keyof typeof ONCE): void {
    if (e.once & ONCE[c]) return
    e.once |= ONCE[c]
    this.letter(fromOrig, c)
  }

  private seqLetter(e: Endpoint, fromOrig: boolean, c: keyof typeof SEQ_LETTER, seq: number): void {
    const i = SEQ_LETTER[c]
    if (e.lastSeq[i] === seq) return
    e.lastSeq[i] = seq
    this.letter(fromOrig, c)
  }

  private logLetter(e: Endpoint, fromOrig: boolean, c: keyof typeof LOG_LETTER): void {
    const i = LOG_LETTER[c]
    if (++e.counts[i] !== e.next[i]) return
    e.next[i] *= 10
    this.letter(fromOrig, c)
  }

  /** One UDP datagram. */
  udp(fromOrig: boolean, ipLength: number, payload: number): void {
    const e = fromOrig ? this.orig : this.resp
    e.pkts++
    e.ipBytes += ipLength
    e.payload += payload
    e.state = EndpointState.UDP_ACTIVE
    if (payload > 0) this.onceLetter(e, fromOrig, 'D')
  }

  /** One TCP segment. */
  tcp(fromOrig: boolean, ipLength: number, flags: number, seq: number, window: number, payload: number): void {
    const e = fromOrig ? this.orig : this.resp
    const peer = fromOrig ? this.resp : this.orig
    e.pkts++
    e.ipBytes += ipLength
    if (flags & SYN) {
      this.seqLetter(e, fromOrig, flags & ACK ? 'H' : 'S', seq)
      if (flags & (FIN | RST)) this.onceLetter(e, fromOrig, 'Q')
    } else if ((flags & (FIN | RST)) === (FIN | RST)) this.onceLetter(e, fromOrig, 'I')
    if (flags & FIN) this.seqLetter(e, fromOrig, 'F', seq)
    if (flags & RST) this.seqLetter(e, fromOrig, 'R', seq)
    if (payload > 0) this.onceLetter(e, fromOrig, 'D')
    else if ((flags & (SYN | FIN | RST | ACK)) === ACK) this.onceLetter(e, fromOrig, 'A')
    if (window === 0 && !(flags & (SYN | RST))) this.logLetter(e, fromOrig, 'W')
    this.sequence(e, fromOrig, flags, seq, payload)
    this.transition(e, peer, flags)
  }

  /** Byte accounting by sequence numbers: the data's span, gaps and retransmissions. */
  private sequence(e: Endpoint, fromOrig: boolean, flags: number, seq: number, payload: number): void {
    if (flags & SYN) {
      if (e.startSeq === -1) e.startSeq = (seq + 1) >>> 0
      seq = (seq + 1) >>> 0
    }
    if (payload === 0) return
    if (e.startSeq === -1) e.startSeq = seq
    const end = (seq + payload) >>> 0
    if (e.maxEnd !== -1 && seqDiff(end, e.maxEnd) <= 0) {
      this.logLetter(e, fromOrig, 'T')
      return
    }
    const from = e.maxEnd === -1 ? e.startSeq : e.maxEnd
    if (seqDiff(seq, from) > 0) {
      e.missed += seqDiff(seq, from)
      this.logLetter(e, fromOrig, 'G')
    }
    e.maxEnd = end
  }

  /** Zeek's endpoint state machine (TCP analyzer), as far as conn_state distinguishes it. */
  private transition(e: Endpoint, peer: Endpoint, flags: number): void {
    const S = EndpointState
    if (flags & RST) {
      e.state = S.RESET
      return
    }
    if (e.state === S.RESET) return
    if (flags & SYN) {
      if (e.state === S.INACTIVE || e.state === S.PARTIAL) e.state = flags & ACK ? S.SYN_ACK_SENT : S.SYN_SENT
      if (flags & FIN) e.state = S.CLOSED
      return
    }
    if (flags & FIN) {
      e.state = S.CLOSED
      return
    }
    if (e.state === S.INACTIVE) {
      e.state = S.PARTIAL
      return
    }
    // The ACK that completes a handshake makes both sides established.
    const handshaking = (s: number) => s === S.SYN_SENT || s === S.SYN_ACK_SENT
    if (flags & ACK && handshaking(e.state) && (handshaking(peer.state) || peer.state === S.ESTABLISHED)) {
      e.state = S.ESTABLISHED
      if (handshaking(peer.state)) peer.state = S.ESTABLISHED
    }
  }

  /** conn_state, by main.zeek's conn_state(). */
  connState(): string {
    const S = EndpointState
    const os = this.orig.state
    const rs = this.resp.state
    if (this.proto === 17) {
      if (os === S.UDP_ACTIVE) return rs === S.UDP_ACTIVE ? 'SF' : 'S0'
      return rs === S.UDP_ACTIVE ? 'SHR' : 'OTH'
    }
    const oInactive = os === S.INACTIVE || os === S.PARTIAL
    const rInactive = rs === S.INACTIVE || rs === S.PARTIAL
    if (rs === S.RESET) {
      if (os === S.SYN_SENT || os === S.SYN_ACK_SENT || (os === S.RESET && this.orig.size(6) === 0 && this.resp.size(6) === 0)) return 'REJ'
      return oInactive ? 'RSTRH' : 'RSTR'
    }
    if (os === S.RESET) {
      if (rInactive) return /^\^?S[^HAFGIQ]*R/.test(this.history) ? 'RSTOS0' : 'OTH'
      return 'RSTO'
    }
    if (rs === S.CLOSED && os === S.CLOSED) return 'SF'
    if (os === S.CLOSED) return rInactive ? 'SH' : 'S2'
    if (rs === S.CLOSED) return oInactive ? 'SHR' : 'S3'
    if (os === S.SYN_SENT && rs === S.INACTIVE) return 'S0'
    if (os === S.ESTABLISHED && rs === S.ESTABLISHED) return 'S1'
    return 'OTH'
  }

  /** Whether the connection has ended (both closed, or reset): a later SYN starts a new one. */
  get ended(): boolean {
    const S = EndpointState
    return this.orig.state === S.RESET || this.resp.state === S.RESET || (this.orig.state === S.CLOSED && this.resp.state === S.CLOSED)
  }
}
