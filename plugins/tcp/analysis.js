// @ts-check
// TCP sequence analysis as tshark 4.0 does it in one pass, by default ("Analyze TCP sequence
// numbers" on, bytes in flight tracked from payloads): retransmissions, out-of-order and lost
// segments, duplicate and lost ACKs, window and keep-alive events, the frame each ACK
// acknowledges with its RTT, bytes in flight and the handshake's RTT. The checks, their order
// and their thresholds are those of Wireshark's tcp_analyze_sequence_number (the User's Guide,
// "TCP Analysis"): a packet's flags depend on the order they are tested in, so that order is kept.
// State is per conversation (one record per direction) and lives as long as the conversation
// does in the run's conversation table; unacknowledged segments are capped per direction.
import { TcpFlags } from 'netkit/plugin'

/** Analysis flag bits (one per expert item tshark adds under tcp.analysis.flags). */
const A = {
  RETRANSMISSION: 0x0001, LOST_PACKET: 0x0002, ACK_LOST_PACKET: 0x0004, KEEP_ALIVE: 0x0008,
  DUPLICATE_ACK: 0x0010, ZERO_WINDOW: 0x0020, ZERO_WINDOW_PROBE: 0x0040, ZERO_WINDOW_PROBE_ACK: 0x0080,
  KEEP_ALIVE_ACK: 0x0100, OUT_OF_ORDER: 0x0200, FAST_RETRANSMISSION: 0x0400, WINDOW_UPDATE: 0x0800,
  WINDOW_FULL: 0x1000, REUSED_PORTS: 0x2000, SPURIOUS_RETRANSMISSION: 0x4000,
}

/** The most unacknowledged segments kept per direction (Wireshark's TCP_MAX_UNACKED_SEGMENTS). */
const MAX_UNACKED = 10000
/** Fast retransmission: within this many ns of the last duplicate ACK (Wireshark: 20 ms). */
const FAST_RETRANSMISSION_NS = 20000000
/** Out-of-order: within the handshake RTT of the highest segment, or this many ns without one. */
const OUT_OF_ORDER_DEFAULT_NS = 3000000
/** A bytes-in-flight value at or past this is taken as nonsense (a wrapped difference). */
const MAX_IN_FLIGHT = 2000000000
/** SACK blocks kept per direction for bytes in flight (Wireshark keeps 3, in slots 1..3). */
const SACK_SLOTS = 4
/** Freed segment records kept for reuse. */
const FREE_SEGMENTS = 4096

const SYN_FIN = TcpFlags.SYN | TcpFlags.FIN
const SYN_FIN_RST = TcpFlags.SYN | TcpFlags.FIN | TcpFlags.RST

/** The fields this module sets, spread into the tcp dissector's fields. */
export const analysisFields = {
  analysis: { name: 'tcp.analysis', type: 'none', label: 'SEQ/ACK analysis' },
  aFlags: { name: 'tcp.analysis.flags', type: 'none', label: 'TCP Analysis Flags' },
  aAcksFrame: { name: 'tcp.analysis.acks_frame', type: 'uint', label: 'This is an ACK to the segment in frame' },
  aAckRtt: { name: 'tcp.analysis.ack_rtt', type: 'double', decimals: 9, label: 'The RTT to ACK the segment was' },
  aInitialRtt: { name: 'tcp.analysis.initial_rtt', type: 'double', decimals: 9, label: 'iRTT' },
  aBytesInFlight: { name: 'tcp.analysis.bytes_in_flight', type: 'uint', label: 'Bytes in flight' },
  aPushBytes: { name: 'tcp.analysis.push_bytes_sent', type: 'uint', label: 'Bytes sent since last PSH flag' },
  aReused: { name: 'tcp.analysis.reused_ports', type: 'none', label: 'A new tcp session is started with the same ports as an earlier session in this trace' },
  aRetransmission: { name: 'tcp.analysis.retransmission', type: 'none', label: 'This frame is a (suspected) retransmission' },
  aRto: { name: 'tcp.analysis.rto', type: 'double', decimals: 9, label: 'The RTO for this segment was' },
  aRtoFrame: { name: 'tcp.analysis.rto_frame', type: 'uint', label: 'RTO based on delta from frame' },
  aFastRetransmission: { name: 'tcp.analysis.fast_retransmission', type: 'none', label: 'This frame is a (suspected) fast retransmission' },
  aSpurious: { name: 'tcp.analysis.spurious_retransmission', type: 'none', label: 'This frame is a (suspected) spurious retransmission' },
  aOutOfOrder: { name: 'tcp.analysis.out_of_order', type: 'none', label: 'This frame is a (suspected) out-of-order segment' },
  aLost: { name: 'tcp.analysis.lost_segment', type: 'none', label: 'Previous segment(s) not captured (common at capture start)' },
  aAckLost: { name: 'tcp.analysis.ack_lost_segment', type: 'none', label: 'ACKed segment that wasn\'t captured (common at capture start)' },
  aWindowUpdate: { name: 'tcp.analysis.window_update', type: 'none', label: 'TCP window update' },
  aWindowFull: { name: 'tcp.analysis.window_full', type: 'none', label: 'TCP window specified by the receiver is now completely full' },
  aKeepAlive: { name: 'tcp.analysis.keep_alive', type: 'none', label: 'TCP keep-alive segment' },
  aKeepAliveAck: { name: 'tcp.analysis.keep_alive_ack', type: 'none', label: 'ACK to a TCP keep-alive segment' },
  aDupAck: { name: 'tcp.analysis.duplicate_ack', type: 'none', label: 'Duplicate ACK' },
  aDupAckNum: { name: 'tcp.analysis.duplicate_ack_num', type: 'uint', label: 'Duplicate ACK #' },
  aDupAckFrame: { name: 'tcp.analysis.duplicate_ack_frame', type: 'uint', label: 'Duplicate to the ACK in frame' },
  aZeroWindowProbe: { name: 'tcp.analysis.zero_window_probe', type: 'none', label: 'TCP Zero Window Probe' },
  aZeroWindow: { name: 'tcp.analysis.zero_window', type: 'none', label: 'TCP Zero Window segment' },
  aZeroWindowProbeAck: { name: 'tcp.analysis.zero_window_probe_ack', type: 'none', label: 'ACK to a TCP Zero Window Probe' },
}

/** @typedef {{ [K in keyof typeof analysisFields]: number }} AnalysisFieldIds */

/** Sequence-space comparisons (RFC 9293 section 3.4: modulo 2^32). */
const gtSeq = (/** @type {number} */ x, /** @type {number} */ y) => ((y - x) | 0) < 0
const ltSeq = (/** @type {number} */ x, /** @type {number} */ y) => ((x - y) | 0) < 0
const leSeq = (/** @type {number} */ x, /** @type {number} */ y) => ((x - y) | 0) <= 0

/** Nanoseconds from (s0, n0) to (s1, n1). */
const deltaNs = (/** @type {number} */ s1, /** @type {number} */ n1, /** @type {number} */ s0, /** @type {number} */ n0) => (s1 - s0) * 1e9 + (n1 - n0)

/** The time from (s0, n0) to (s1, n1) as Wireshark's nstime_delta makes it (seconds, nanoseconds). */
const span = { sec: 0, nsec: 0 }
function nstimeDelta(/** @type {number} */ s1, /** @type {number} */ n1, /** @type {number} */ s0, /** @type {number} */ n0) {
  span.sec = s1 - s0
  span.nsec = n1 - n0
  if (s1 < s0 && span.nsec > 0) { span.nsec -= 1e9; span.sec++ }
  else if (s1 > s0 && span.nsec < 0) { span.nsec += 1e9; span.sec-- }
  return span
}

/**
 * Sets a relative-time field to the time from (s0, n0) to now, unless it is zero, printed as
 * tshark prints it (nine decimals; a timestamp with a nanosecond part of a second or more, which
 * damaged files hold, gives tshark's unnormalised text). Returns whether it was set.
 * @param {import('netkit').DissectContext} ctx @param {number} field @param {number} s0 @param {number} n0
 */
function setSince(ctx, field, s0, n0) {
  const d = nstimeDelta(ctx.sec, ctx.nsec, s0, n0)
  if (d.sec === 0 && d.nsec === 0) return false
  setTime(ctx, field, d.sec, d.nsec)
  return true
}

/** Sets a relative-time field to (sec, nsec) (see setSince). @param {import('netkit').DissectContext} ctx @param {number} field @param {number} sec @param {number} nsec */
function setTime(ctx, field, sec, nsec) {
  if (nsec > -1e9 && nsec < 1e9) ctx.set(field, sec + nsec / 1e9)
  else ctx.setText(field, `${sec === 0 && nsec < 0 ? '-' : ''}${sec}.${String(Math.abs(nsec)).padStart(9, '0')}`)
}

/**
 * An unacknowledged segment (newest first in its direction's list).
 * @typedef {{ frame: number, seq: number, nextseq: number, sec: number, nsec: number, next: Segment | undefined }} Segment
 */

/** One direction's analysis state (Wireshark's tcp_flow_t and tcp_analyze_seq_flow_info_t). */
class Direction {
  /** Whether the direction's base sequence number is known (the flow saw a segment, or an ACK of it). */
  baseSet = false
  /** Highest sequence number seen plus one (0: none yet), its frame and time. */
  nextseq = 0
  nextseqFrame = 0
  nextseqSec = 0
  nextseqNsec = 0
  /** Highest contiguous sequence number the other side may acknowledge (0: none yet). */
  maxSeqToBeAcked = 0
  /** The last ACK number this direction sent, and when. */
  lastack = 0
  lastackSec = 0
  lastackNsec = 0
  /** Frame of the last ACK that was not a duplicate; duplicates since (-1: an unseen segment was ACKed). */
  lastNonDupAck = 0
  dupAckNum = 0
  /** The last window sent (unscaled; 2^32 - 1 before any), and the window scale (-1 unknown, -2 none). */
  window = 0xffffffff
  winScale = -1
  /** Until the first pure ACK after a SYN, windows are not scaled (the SYN's never are). */
  isFirstAck = false
  /** The analysis flags of this direction's last segment. */
  lastSegmentFlags = 0
  /** Bytes in flight are computed only while no segment is missing (reset by an ACK the other way). */
  validBif = true
  pushBytesSent = 0
  pushSetLast = false
  /** @type {Segment | undefined} */
  segments = undefined
  segmentCount = 0
  /**
   * SACK blocks of this direction's last segment: left and right edges of block i in slots
   * 2i and 2i + 1, i from 1 to sackCount as Wireshark keeps them (made at the first SACK).
   */
  sackCount = 0
  /** @type {Uint32Array | undefined} */
  sack = undefined
}

/** One conversation's analysis state. */
class ConversationAnalysis {
  ab = new Direction()
  ba = new Direction()
  /** Time of the most recent pure SYN (synSec < 0: none). */
  synSec = -1
  synNsec = 0
  /** The handshake RTT (firstRttSet false: not known yet), as nstime_delta gave it, and in ns. */
  firstRttSet = false
  firstRttSec = 0
  firstRttNsec = 0
  firstRttNs = 0
}

/** The analysis of the current packet (Wireshark's tcp_acked), reset for each packet. */
class PacketAnalysis {
  present = false
  flags = 0
  frameAcked = 0
  /** Time of the segment this ACK acknowledges, and of the segment the RTO is measured from. */
  ackedSec = 0
  ackedNsec = 0
  dupAckNum = 0
  dupAckFrame = 0
  bytesInFlight = 0
  pushBytesSent = 0
  rtoSec = 0
  rtoNsec = 0
  rtoFrame = 0
  reset() {
    this.present = false
    this.flags = 0
    this.frameAcked = 0
    this.dupAckNum = 0
    this.dupAckFrame = 0
    this.bytesInFlight = 0
    this.pushBytesSent = 0
    this.rtoFrame = 0
  }
  /** @param {number} flag */
  flag(flag) {
    this.present = true
    this.flags |= flag
  }
}

/** The run's TCP analysis: per-conversation state and the packet being analysed. */
export class TcpAnalysis {
  /** Whether anything will print or filter an analysis field (fixed for the run; undefined until asked). */
  /** @type {boolean | undefined} */
  #wanted = undefined
  #ta = new PacketAnalysis()
  /** Freed segment records, reused (bounded). @type {Segment | undefined} */
  #free = undefined
  #freeCount = 0

  /**
   * Whether a segment with these analysis flags (analyze()'s result) keeps its payload from the
   * protocol above, as tshark's desegment_tcp keeps a (plain) retransmission's; an out-of-order
   * segment whose bytes were all seen before is kept back too (tshark 4.0 shows no layer above
   * TCP on one). Fast and spurious retransmissions do go up, as in tshark.
   * @param {number} flags @param {boolean} allSeen
   */
  static holdsBack(flags, allSeen) {
    return (flags & A.RETRANSMISSION) !== 0 || ((flags & A.OUT_OF_ORDER) !== 0 && allSeen)
  }

  /**
   * Whether the run prints or filters any analysis field (worked out once).
   * @param {import('netkit').DissectContext} ctx @param {AnalysisFieldIds} f
   */
  wants(ctx, f) {
    this.#wanted ??= Object.keys(analysisFields).some((k) => ctx.wants(f[/** @type {keyof AnalysisFieldIds} */ (k)]))
    return this.#wanted
  }

  /**
   * Analyses one segment and sets the analysis fields. `place` is where the conversation
   * table's lookup() put segment `s` (its conversation; `fromA`: the segment goes A to B;
   * `reused`: the table started a new conversation, or moved the base sequence number, for a
   * SYN on ports in use). `seglen` is -1 when tshark knows no segment length: a header cut short
   * on the wire, or a segment an ICMP error quotes, for which only the SYN bookkeeping and the
   * options count. The segment's numbers are read from `s` and `place`, not passed one by one:
   * sequence numbers and times do not fit a small integer, and each one passed to a call would
   * be a heap number made per packet.
   * @param {import('netkit').DissectContext} ctx @param {AnalysisFieldIds} f
   * @param {import('netkit').ByteView} view the TCP header and payload
   * @param {import('netkit').SegmentPlace} place @param {import('netkit').TcpSegmentFacts} s
   * @param {number} seglen @param {number} hl header length
   */
  analyze(ctx, f, view, place, s, seglen, hl) {
    const conversation = place.conversation
    let conv = /** @type {ConversationAnalysis | undefined} */ (conversation.state)
    if (conv === undefined) {
      conv = new ConversationAnalysis()
      conversation.state = conv
    }
    const fromA = place.fromA
    const fwd = fromA ? conv.ab : conv.ba
    const rev = fromA ? conv.ba : conv.ab
    const ta = this.#ta
    ta.reset()
    const flags = s.flags
    const synAck = flags & (TcpFlags.SYN | TcpFlags.ACK)
    if (place.reused) ta.flag(A.REUSED_PORTS)
    else if (synAck === TcpFlags.SYN && fwd.baseSet) {
      // The same SYN again: the flow restarts where the other side can still acknowledge
      // (RFC 9293 section 3.10.7.4: a RST may have carried the ACK's sequence number).
      fwd.nextseq = fwd.maxSeqToBeAcked
      ta.present = true
    }
    fwd.sackCount = 0
    if (seglen >= 0) {
      fwd.baseSet = true
      if (flags & TcpFlags.ACK) rev.baseSet = true
      this.#sequence(conv, fwd, rev, ta, s, seglen, view.u16(14))
    }
    if (flags & TcpFlags.SYN) {
      fwd.isFirstAck = true
      if (!(flags & TcpFlags.ACK)) { conv.synSec = s.sec; conv.synNsec = s.nsec }
    } else if (flags & TcpFlags.ACK) {
      if (conv.synSec >= 0 && !conv.firstRttSet) {
        const d = nstimeDelta(s.sec, s.nsec, conv.synSec, conv.synNsec)
        conv.firstRttSet = d.sec !== 0 || d.nsec !== 0
        conv.firstRttSec = d.sec
        conv.firstRttNsec = d.nsec
        conv.firstRttNs = d.sec * 1e9 + d.nsec
      }
      fwd.isFirstAck = false
    }
    // tshark shows the analysis after the options: options cut short by the capture end its TCP layer first.
    // Run only for its flags (no tcp.analysis field printed): options, ACKed segments and bytes
    // in flight, which feed fields alone, are not tracked.
    if (!this.#wanted) return ta.flags
    if (seglen >= 0) {
      this.#acknowledge(rev, ta, s.ack)
      this.#inFlight(fwd, rev, ta, seglen, flags, fromA ? conversation.ab.base : conversation.ba.base)
    }
    const shown = hl <= 20 || readOptions(view, hl, fwd)
    if (ta.present && shown) this.#print(ctx, f, conv, ta)
    if (flags & TcpFlags.SYN) {
      // Wireshark's verify_tcp_window_scaling: a SYN without the option means no scaling both ways.
      if (fwd.winScale === -1) { fwd.winScale = -2; rev.winScale = -2 }
      else if (flags & TcpFlags.ACK && rev.winScale === -2) fwd.winScale = -2
    }
    return ta.flags
  }

  /**
   * Wireshark's tcp_analyze_sequence_number: the checks in its order (ACKed segments and bytes
   * in flight, which follow them there, are analyze()'s: they feed fields only).
   * @param {ConversationAnalysis} conv @param {Direction} fwd @param {Direction} rev @param {PacketAnalysis} ta
   * @param {import('netkit').TcpSegmentFacts} s @param {number} seglen @param {number} window raw
   */
  #sequence(conv, fwd, rev, ta, s, seglen, window) {
    const seq = s.seq, ack = s.ack, flags = s.flags
    // Flags-only (no analysis field shown): the flags no later check reads and no state follows
    // from (zero window, lost segment, window update, window full, ACKed lost segment; bytes in
    // flight's validity) are not worked out. What is read later: KEEP_ALIVE and
    // ZERO_WINDOW_PROBE (the other direction's next segment, through lastSegmentFlags; KEEP_ALIVE
    // also by #retransmission), RETRANSMISSION and OUT_OF_ORDER (holdsBack).
    const all = this.#wanted === true
    if (all && flags & TcpFlags.ACK) rev.validBif = true
    checks: {
      // Zero window probe: one byte at the next sequence number into a zero window.
      if (seglen === 1 && seq === fwd.nextseq && rev.window === 0) {
        ta.flag(A.ZERO_WINDOW_PROBE)
        break checks
      }
      if (all) {
        // Zero window: the sender advertises no room (SYN/FIN/RST aside).
        if (window === 0 && (flags & SYN_FIN_RST) === 0) ta.flag(A.ZERO_WINDOW)
        // Lost segment: the segment starts past the highest byte seen.
        if (fwd.nextseq !== 0 && gtSeq(seq, fwd.nextseq) && (flags & TcpFlags.RST) === 0) {
          ta.flag(A.LOST_PACKET)
          fwd.validBif = false
        }
      }
      // Keep-alive: 0 or 1 byte starting one byte before the next sequence number.
      if (seglen <= 1 && seq === ((fwd.nextseq - 1) >>> 0) && (flags & SYN_FIN_RST) === 0) ta.flag(A.KEEP_ALIVE)
      const sameAck = seglen === 0 && seq === fwd.nextseq && ack === fwd.lastack && (flags & SYN_FIN_RST) === 0
      if (all) {
        // Window update: an empty segment that only changes the window.
        if (sameAck && window !== 0 && window !== fwd.window) ta.flag(A.WINDOW_UPDATE)
        // Window full: the data reaches the right edge of the receiver's window.
        if (seglen > 0 && rev.winScale !== -1 && (flags & SYN_FIN_RST) === 0) {
          const shift = rev.isFirstAck || rev.winScale === -2 ? 0 : rev.winScale
          if (((seq + seglen) >>> 0) === ((rev.lastack + ((rev.window << shift) >>> 0)) >>> 0)) ta.flag(A.WINDOW_FULL)
        }
      }
      if (sameAck && window !== 0 && window === fwd.window && rev.lastSegmentFlags & A.KEEP_ALIVE) {
        ta.flag(A.KEEP_ALIVE_ACK)
        break checks
      }
      if (sameAck && window === 0 && fwd.window === 0 && rev.lastSegmentFlags & A.ZERO_WINDOW_PROBE) {
        ta.flag(A.ZERO_WINDOW_PROBE_ACK)
        break checks
      }
      // Duplicate ACK: an empty segment repeating sequence, ACK and window.
      if (sameAck && window !== 0 && window === fwd.window) {
        fwd.dupAckNum = fwd.dupAckNum === -1 ? 1 : fwd.dupAckNum + 1
        ta.flag(A.DUPLICATE_ACK)
        ta.dupAckNum = fwd.dupAckNum
        ta.dupAckFrame = fwd.lastNonDupAck
      }
    }
    if (ack !== fwd.lastack) {
      fwd.lastNonDupAck = s.frame
      fwd.dupAckNum = 0
    }
    // ACKed lost segment: the ACK covers bytes the other direction never showed.
    if (rev.maxSeqToBeAcked !== 0 && gtSeq(ack, rev.maxSeqToBeAcked) && flags & TcpFlags.ACK) {
      ta.present = true
      if (ltSeq(rev.maxSeqToBeAcked, rev.nextseq)) {
        rev.maxSeqToBeAcked = rev.nextseq
        ta.flags |= A.ACK_LOST_PACKET
      } else {
        // One report per lost segment, however many pure ACKs repeat it.
        if (rev.dupAckNum === 0) ta.flags |= A.ACK_LOST_PACKET
        rev.dupAckNum = -1
      }
    }
    this.#retransmission(conv, fwd, rev, ta, s, seglen)
    let nextseq = (seq + seglen) >>> 0
    if ((seglen !== 0 || flags & SYN_FIN) && fwd.segmentCount < MAX_UNACKED && this.#wanted) {
      if (flags & SYN_FIN) nextseq = (nextseq + 1) >>> 0
      const unacked = this.#segment(s.frame, seq, nextseq, s.sec, s.nsec)
      unacked.next = fwd.segments
      fwd.segments = unacked
      fwd.segmentCount++
    }
    const probe = (ta.flags & A.ZERO_WINDOW_PROBE) !== 0
    // A zero window probe does not advance the highest sequence number.
    if ((gtSeq(nextseq, fwd.nextseq) || fwd.nextseq === 0) && !probe) {
      fwd.nextseq = nextseq
      fwd.nextseqFrame = s.frame
      fwd.nextseqSec = s.sec
      fwd.nextseqNsec = s.nsec
    }
    if ((seq === fwd.maxSeqToBeAcked || fwd.maxSeqToBeAcked === 0) && !probe) fwd.maxSeqToBeAcked = fwd.nextseq
    fwd.window = window
    fwd.lastack = ack
    fwd.lastackSec = s.sec
    fwd.lastackNsec = s.nsec
    fwd.lastSegmentFlags = ta.flags
  }

  /**
   * Retransmission, fast retransmission, spurious retransmission or out-of-order, for a segment
   * that carries data (or SYN/FIN) and does not advance the sequence number.
   * @param {ConversationAnalysis} conv @param {Direction} fwd @param {Direction} rev @param {PacketAnalysis} ta
   * @param {import('netkit').TcpSegmentFacts} s @param {number} seglen
   */
  #retransmission(conv, fwd, rev, ta, s, seglen) {
    const flags = s.flags
    if (seglen === 0 && (flags & SYN_FIN) === 0) return
    const seq = s.seq, sec = s.sec, nsec = s.nsec
    if (ta.flags & A.KEEP_ALIVE) return
    let notAdvanced = fwd.nextseq !== 0 && ltSeq(seq, fwd.nextseq)
    // More than one byte starting just before the next sequence number follows a zero window probe.
    if (seglen > 1 && ((fwd.nextseq - 1) >>> 0) === seq) notAdvanced = false
    if (seglen > 0 && rev.lastack !== 0 && leSeq((seq + seglen) >>> 0, rev.lastack)) {
      ta.flag(A.SPURIOUS_RETRANSMISSION)
      return
    }
    // Each check below needs a segment that does not advance the sequence number.
    if (!notAdvanced) return
    // Wireshark compares unsigned 64-bit differences: a time before the reference never counts.
    const sinceDupAck = deltaNs(sec, nsec, rev.lastackSec, rev.lastackNsec)
    if (rev.dupAckNum >= 2 && rev.lastack === seq && sinceDupAck >= 0 && sinceDupAck < FAST_RETRANSMISSION_NS) {
      ta.flag(A.FAST_RETRANSMISSION)
      return
    }
    const sinceHighest = deltaNs(sec, nsec, fwd.nextseqSec, fwd.nextseqNsec)
    const threshold = conv.firstRttSet ? conv.firstRttNs : OUT_OF_ORDER_DEFAULT_NS
    if (sinceHighest >= 0 && sinceHighest < threshold &&
        fwd.nextseq !== ((seq + seglen + (flags & SYN_FIN ? 1 : 0)) >>> 0)) {
      ta.flag(A.OUT_OF_ORDER)
      return
    }
    ta.flag(A.RETRANSMISSION)
    // The RTO is measured from the oldest unacknowledged segment (else the highest one).
    ta.rtoSec = fwd.nextseqSec
    ta.rtoNsec = fwd.nextseqNsec
    ta.rtoFrame = fwd.nextseqFrame
    for (let u = fwd.segments; u !== undefined; u = u.next) {
      ta.rtoSec = u.sec
      ta.rtoNsec = u.nsec
      ta.rtoFrame = u.frame
    }
  }

  /**
   * Drops the other direction's segments this ACK covers, noting the one it ends exactly.
   * @param {Direction} rev @param {PacketAnalysis} ta @param {number} ack
   */
  #acknowledge(rev, ta, ack) {
    /** @type {Segment | undefined} */
    let prev
    let s = rev.segments
    while (s !== undefined) {
      if (ack === s.nextseq) {
        ta.present = true
        ta.frameAcked = s.frame
        ta.ackedSec = s.sec
        ta.ackedNsec = s.nsec
      } else if (gtSeq(ack, s.seq) && leSeq(ack, s.nextseq)) {
        s.seq = ack // part of it is acknowledged
        continue
      } else if (gtSeq(s.nextseq, ack)) {
        prev = s
        s = s.next
        continue
      }
      const next = s.next
      if (prev === undefined) rev.segments = next
      else prev.next = next
      rev.segmentCount--
      this.#release(s)
      s = next
    }
  }

  /**
   * Bytes in flight after this segment: the span of the unacknowledged segments (relative to the
   * sender's base sequence number), less what the other side's last SACK blocks hold; and bytes
   * sent since the last PSH.
   * @param {Direction} fwd @param {Direction} rev @param {PacketAnalysis} ta @param {number} seglen
   * @param {number} flags @param {number} base
   */
  #inFlight(fwd, rev, ta, seglen, flags, base) {
    let s = fwd.segments
    if (seglen === 0 || s === undefined || !fwd.validBif) return
    let first = (s.seq - base) >>> 0
    let last = (s.nextseq - base) >>> 0
    for (; s !== undefined; s = s.next) {
      const a = (s.seq - base) >>> 0, b = (s.nextseq - base) >>> 0
      if (b > last) last = b
      if (a < first) first = a
    }
    let inFlight = (last - first) >>> 0
    if (rev.sackCount > 0) {
      let delivered = 0
      const sack = /** @type {Uint32Array} */ (rev.sack)
      for (let i = 1; i <= rev.sackCount; i++) delivered = (delivered + sack[2 * i + 1] - sack[2 * i]) >>> 0
      inFlight = (inFlight - delivered) >>> 0
    }
    ta.present = true
    if (inFlight > 0 && inFlight < MAX_IN_FLIGHT) ta.bytesInFlight = flags & SYN_FIN ? inFlight - 1 : inFlight
    if (flags & TcpFlags.PSH) {
      fwd.pushBytesSent = fwd.pushSetLast ? seglen : fwd.pushBytesSent + seglen
      fwd.pushSetLast = true
    } else if (fwd.pushSetLast) {
      fwd.pushBytesSent = seglen
      fwd.pushSetLast = false
    } else fwd.pushBytesSent += seglen
    ta.pushBytesSent = fwd.pushBytesSent
  }

  /**
   * @param {number} frame @param {number} seq @param {number} nextseq @param {number} sec @param {number} nsec
   * @returns {Segment}
   */
  #segment(frame, seq, nextseq, sec, nsec) {
    const s = this.#free
    if (s === undefined) return { frame, seq, nextseq, sec, nsec, next: undefined }
    this.#free = s.next
    this.#freeCount--
    s.frame = frame; s.seq = seq; s.nextseq = nextseq; s.sec = sec; s.nsec = nsec; s.next = undefined
    return s
  }

  /** @param {Segment} s */
  #release(s) {
    if (this.#freeCount >= FREE_SEGMENTS) return
    s.next = this.#free
    this.#free = s
    this.#freeCount++
  }

  /**
   * Sets the fields of the packet's analysis, as tcp_print_sequence_number_analysis adds them.
   * @param {import('netkit').DissectContext} ctx @param {AnalysisFieldIds} f
   * @param {ConversationAnalysis} conv @param {PacketAnalysis} ta
   */
  #print(ctx, f, conv, ta) {
    ctx.set(f.analysis, 1)
    if (ta.frameAcked !== 0) {
      ctx.set(f.aAcksFrame, ta.frameAcked)
      setSince(ctx, f.aAckRtt, ta.ackedSec, ta.ackedNsec)
    }
    if (conv.firstRttSet) setTime(ctx, f.aInitialRtt, conv.firstRttSec, conv.firstRttNsec)
    if (ta.bytesInFlight !== 0) {
      ctx.set(f.aBytesInFlight, ta.bytesInFlight)
      ctx.set(f.aPushBytes, ta.pushBytesSent)
    }
    const a = ta.flags
    if (a === 0) return
    ctx.set(f.aFlags, 1)
    if (a & A.REUSED_PORTS) ctx.set(f.aReused, 1)
    if (a & A.RETRANSMISSION) {
      ctx.set(f.aRetransmission, 1)
      if (setSince(ctx, f.aRto, ta.rtoSec, ta.rtoNsec)) ctx.set(f.aRtoFrame, ta.rtoFrame)
    }
    if (a & A.FAST_RETRANSMISSION) { ctx.set(f.aFastRetransmission, 1); ctx.set(f.aRetransmission, 1) }
    if (a & A.SPURIOUS_RETRANSMISSION) { ctx.set(f.aSpurious, 1); ctx.set(f.aRetransmission, 1) }
    if (a & A.OUT_OF_ORDER) ctx.set(f.aOutOfOrder, 1)
    if (a & A.LOST_PACKET) ctx.set(f.aLost, 1)
    if (a & A.ACK_LOST_PACKET) ctx.set(f.aAckLost, 1)
    if (a & A.WINDOW_UPDATE) ctx.set(f.aWindowUpdate, 1)
    if (a & A.WINDOW_FULL) ctx.set(f.aWindowFull, 1)
    if (a & A.KEEP_ALIVE) ctx.set(f.aKeepAlive, 1)
    if (a & A.KEEP_ALIVE_ACK) ctx.set(f.aKeepAliveAck, 1)
    if (ta.dupAckNum !== 0) {
      // tshark adds the duplicate_ack item under the flags and again as the expert item.
      if (a & A.DUPLICATE_ACK) ctx.set(f.aDupAck, 1)
      ctx.set(f.aDupAckNum, ta.dupAckNum)
      ctx.set(f.aDupAckFrame, ta.dupAckFrame)
      ctx.set(f.aDupAck, 1)
    }
    if (a & A.ZERO_WINDOW_PROBE) ctx.set(f.aZeroWindowProbe, 1)
    if (a & A.ZERO_WINDOW) ctx.set(f.aZeroWindow, 1)
    if (a & A.ZERO_WINDOW_PROBE_ACK) ctx.set(f.aZeroWindowProbeAck, 1)
  }
}

/**
 * The options analysis keeps after the checks (RFC 9293 section 3.2): the window scale
 * (RFC 7323 section 2.3, a shift above 14 used as 14) and the SACK blocks (RFC 2018), which
 * the other direction's next bytes-in-flight subtracts. A bad length ends the walk. Returns
 * false when the walk needed bytes the capture does not hold.
 * @param {import('netkit').ByteView} view @param {number} hl @param {Direction} fwd
 * @returns {boolean}
 */
function readOptions(view, hl, fwd) {
  const captured = view.captured
  for (let p = 20; p < hl;) {
    if (p >= captured) return false
    const kind = view.u8(p)
    if (kind === 0) return true
    if (kind === 1) { p++; continue }
    if (p + 1 >= captured) return false
    const len = view.u8(p + 1)
    if (len < 2 || p + len > hl) return true
    if (p + len > captured) return false
    if (kind === 3 && len === 3) fwd.winScale = Math.min(view.u8(p + 2), 14)
    else if (kind === 5) {
      let n = 0
      for (let q = p + 2; q + 8 <= p + len; q += 8) {
        n++
        if (n < SACK_SLOTS) {
          fwd.sack ??= new Uint32Array(2 * SACK_SLOTS)
          fwd.sackCount = n
          fwd.sack[2 * n] = view.u32(q)
          fwd.sack[2 * n + 1] = view.u32(q + 4)
        }
      }
    }
    p += len
  }
  return true
}
