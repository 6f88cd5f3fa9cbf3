/**
 * RecordBatch: the unit every stage passes along (reader or live ring -> filter -> dissection ->
 * formatter or writer). A batch is a set of parallel typed arrays over one backing buffer, so a
 * stage touches many packets per call and nothing is allocated per packet.
 */

/** What a record is. Most are packets; pcapng custom blocks are records tshark shows too. */
export const RecordKind = {
  packet: 0,
  custom: 1,
} as const

/**
 * Record layouts in a batch's buffer that a writer can copy without rewriting (the numbers are
 * the capture addon's layouts 1 and 2, which lay out ring blocks the same way).
 */
export const RecordLayout = {
  none: 0,
  /** Classic pcap records, little-endian, microsecond timestamps. */
  pcapMicro: 1,
  /** Classic pcap records, little-endian, nanosecond timestamps. */
  pcapNano: 2,
} as const

/** One capture interface: pcapng IDB, or the single implicit interface of a classic pcap file. */
export interface InterfaceInfo {
  /** LINKTYPE_* value. */
  linkType: number
  /** Snapshot length; 0 means no limit (pcapng). */
  snaplen: number
  /** if_name, when the file or the capture names it. */
  name?: string
  /** if_description. */
  description?: string
  /** Timestamp units per second (10^6 unless if_tsresol says otherwise). */
  tsUnitsPerSecond?: number
  /** FCS length in bytes carried at the end of each frame, when known. */
  fcsLength?: number
  /** pcapng: the interface's id within its section (what tshark shows as frame.interface_id). */
  localId?: number
}

/** A batch of records over one backing buffer. Valid only until the producer is resumed. */
export class RecordBatch {
  /** Backing buffer; record i's bytes are data[offset[i], offset[i] + capLen[i]). */
  data: Buffer = Buffer.alloc(0)
  /** Number of records in the batch. */
  count = 0
  /** Frame number (1-based) of record 0. */
  firstNumber = 1
  /** The interfaces that `iface` indexes (shared with the reader; grows as a pcapng file is read). */
  interfaces: readonly InterfaceInfo[] = []
  /** Start of each record's bytes in `data`. */
  readonly offset: Uint32Array
  /** Captured length (bytes present). */
  readonly capLen: Uint32Array
  /** Original length on the wire. */
  readonly origLen: Uint32Array
  /** Whole seconds since the epoch; NaN when the record carries no timestamp (pcapng SPB). */
  readonly tsSec: Float64Array
  /** Nanoseconds past tsSec (may be >= 1e9 for files with invalid fractions, as tshark keeps them). */
  readonly tsNsec: Uint32Array
  /** Interface id (global across pcapng sections); -1 when the file has no interfaces (pcap). */
  readonly iface: Int32Array
  /** LINKTYPE_* of each record; -1 for records that are not packets. */
  readonly linkType: Int32Array
  /** RecordKind of each record. */
  readonly kind: Uint8Array
  /**
   * How the records sit in `data` when a writer of the same layout may copy them whole, header
   * included: RecordLayout.pcapMicro or pcapNano (classic pcap, little-endian, 16-byte record
   * headers, back to back), else RecordLayout.none. Set by the producer for the whole batch.
   */
  layout: number = RecordLayout.none

  constructor(readonly capacity = 8192) {
    this.offset = new Uint32Array(capacity)
    this.capLen = new Uint32Array(capacity)
    this.origLen = new Uint32Array(capacity)
    this.tsSec = new Float64Array(capacity)
    this.tsNsec = new Uint32Array(capacity)
    this.iface = new Int32Array(capacity)
    this.linkType = new Int32Array(capacity)
    this.kind = new Uint8Array(capacity)
  }

  /** Empties the batch, keeping its arrays. */
  reset(data: Buffer, firstNumber: number, interfaces: readonly InterfaceInfo[] = this.interfaces): void {
    this.data = data
    this.interfaces = interfaces
    this.count = 0
    this.firstNumber = firstNumber
    this.layout = RecordLayout.none
  }

  /** The interface number tshark 4 shows as frame.interface_id for record i (within its pcapng section), or -1. */
  interfaceId(i: number): number {
    const iface = this.iface[i]
    return iface < 0 ? -1 : this.interfaces[iface]?.localId ?? iface
  }

  /**
   * Keeps only the records with select[i] !== 0 (`kept` of them), moved to the front in order;
   * their bytes stay where they are. Frame numbers (firstNumber + i) no longer hold after it:
   * for consumers that write records, not for those that number them.
   */
  compact(select: Uint8Array, kept: number): void {
    let j = 0
    for (let i = 0; i < this.count && j < kept; i++) {
      if (select[i] === 0) continue
      if (i !== j) {
        this.offset[j] = this.offset[i]
        this.capLen[j] = this.capLen[i]
        this.origLen[j] = this.origLen[i]
        this.tsSec[j] = this.tsSec[i]
        this.tsNsec[j] = this.tsNsec[i]
        this.iface[j] = this.iface[i]
        this.linkType[j] = this.linkType[i]
        this.kind[j] = this.kind[i]
      }
      j++
    }
    this.count = j
  }

  /** A copy of record i's bytes (for tests and one-off use; hot paths index `data` directly). */
  bytes(i: number): Buffer {
    return Buffer.from(this.data.subarray(this.offset[i], this.offset[i] + this.capLen[i]))
  }
}
