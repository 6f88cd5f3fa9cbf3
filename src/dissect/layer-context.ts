/**
 * LayerContext: the DissectContext a dissector is handed, one per engine, reused for every
 * layer. It holds what the current layer may read and write (its fields, the summary line,
 * the network addresses, run state) and records the dissector's requests (the next table, more
 * bytes, the PDU's length), which the engine acts on once the dissector returns. Dissectors see
 * this object, never the engine.
 */
import type { DissectContext, StreamPosition } from './api.js'
import { ByteView } from './byte-view.js'
import { ipv6Text, maskShift } from './field-types.js'
import { InfoLine } from './info-line.js'
import type { LayerRecord, PacketFields } from './packet-fields.js'
import type { DissectorTable } from './registry.js'

/** A dispatch over a TCP stream: the table and keys, and where the segment sits in the stream. */
export interface StreamDispatch {
  table: DissectorTable
  key: number | string
  alt: number | string | undefined
  flow: number
  seq: number
  fin: boolean
}

/** What the context asks of the engine that owns it. */
export interface TableSource {
  /** The dissector table named `name`. */
  table(name: string): DissectorTable
  /** Writes the pending fallback line (summaryLayer's) now, before a layer above appends to it. */
  writeSummary(): void
  /** Whether a dispatch to `table` under `key` (or `altKey`, or a heuristic) would run a dissector. */
  hasNext(table: DissectorTable, key: number | string, altKey: number | string | undefined): boolean
}

/** The context of the layer being decoded. */
export class LayerContext implements DissectContext {
  frame = 0
  linkType = 0
  sec = 0
  nsec = 0
  wantsInfo = false
  summaryOnly = false
  srcOffset = -1
  dstOffset = -1
  addrLength = 0
  /** Transport ports of the packet (setPorts), -1 when no transport set them. */
  srcPort = -1
  dstPort = -1
  /** Flow id of the stream being dissected, or -1. */
  flow = -1
  /** The rest of the packet is quoted by an ICMP error (reset per packet). */
  quoted = false
  /**
   * The summary line of the current packet is line.buf[lineStart, line.pos), when hasInfo. A
   * layer that replaces the line starts a new one after the old (lineStart moves on), so a
   * layer that throws half-way through its line can be undone.
   */
  readonly line = new InfoLine()
  lineStart = 0
  hasInfo = false
  /** The line as it was before the current layer's infoLine() (undoStart -1: nothing to undo). */
  undoStart = -1
  undoPos = 0
  undoHas = false
  /**
   * Tunnels: line.buf[prefixStart, prefixEnd) is kept in front of a line a layer above starts
   * (prefixEnd 0: none); with lineDone set the line is complete and further writes go to `sink`.
   */
  prefixStart = 0
  prefixEnd = 0
  lineDone = false
  /** The layer that called infoDone(): only its summary() may still be owed after it. */
  doneLayer: LayerRecord | undefined
  private readonly sink = new InfoLine()
  undoSummary = -1
  /**
   * The layer (index in the packet's layers) whose fallback line (its definition's summary())
   * is owed if no layer above replaces the line, or -1. A layer that replaces the line drops it;
   * one that appends has it written first.
   */
  summaryLayer = -1
  readonly view = new ByteView()
  /** The layer being decoded (malformed() marks it). */
  layer: LayerRecord | undefined
  /** Requests of the current layer: the next table (undefined: none), more bytes, its PDU length. */
  nextTable: DissectorTable | undefined
  nextKey: number | string = 0
  nextAlt: number | string | undefined
  nextAt = 0
  /** Bytes other than the packet's that the next layer reads (nextBytes), and the handoff for it. */
  nextData: Buffer | undefined
  nextHandoff = 0
  handoff = 0
  streamNext: StreamDispatch | undefined
  private readonly streamDispatch: StreamDispatch = { table: undefined as unknown as DissectorTable, key: 0, alt: undefined, flow: -1, seq: 0, fin: false }
  need = 0
  pdu = -1
  /** Absolute ends of the captured bytes and of the bytes on the wire in scope (limit() lowers them). */
  end = 0
  reportedEnd = 0
  /**
   * Per field id: 1 for number types (uint, int, bool), whose add() reads a value; 2 for those
   * with a bitmask, whose value is masked and shifted (mask and shift by id in the arrays).
   */
  private readonly numeric: Uint8Array
  private readonly masks: Uint32Array
  private readonly shifts: Uint8Array
  /**
   * Run state by key: the first keys in a short list, scanned (dissectors ask for theirs on
   * every packet, and this beats hashing the key), any more in a Map.
   */
  private readonly stateKeys: string[] = []
  private readonly stateValues: unknown[] = []
  private readonly moreState = new Map<string, unknown>()
  readonly #tables: TableSource

  constructor(
    private readonly store: PacketFields,
    /** Per field id: 1 when a consumer needs the field recorded. */
    private readonly wanted: Uint8Array,
    fieldTypes: ReadonlyArray<{ type: string; bitmask?: number }>,
    tables: TableSource,
  ) {
    this.#tables = tables
    this.numeric = new Uint8Array(fieldTypes.length)
    this.masks = new Uint32Array(fieldTypes.length)
    this.shifts = new Uint8Array(fieldTypes.length)
    for (let id = 0; id < fieldTypes.length; id++) {
      const { type: t, bitmask } = fieldTypes[id]
      if (t === 'uint' || t === 'int' || t === 'bool') this.numeric[id] = bitmask === undefined ? 1 : 2
      if (bitmask !== undefined) {
        this.masks[id] = bitmask
        this.shifts[id] = maskShift(bitmask)
      }
    }
  }

  /** Puts the line back as it was before the current layer's infoLine() (the layer failed). */
  undoLine(): void {
    if (this.undoStart < 0) return
    this.lineStart = this.undoStart
    this.line.pos = this.undoPos
    this.hasInfo = this.undoHas
    this.summaryLayer = this.undoSummary
  }

  add(field: number, at: number, size: number): number {
    const view = this.view
    const numeric = this.numeric[field]
    if (numeric !== 0) {
      let value = size === 1 ? view.u8(at) : size === 2 ? view.u16(at) : size === 4 ? view.u32(at) : (view.u16(at) << 8) | view.u8(at + 2)
      if (numeric === 2) value = (value & this.masks[field]) >>> this.shifts[field]
      if (this.wanted[field] === 1) this.store.pushNumber(field, value)
      return value
    }
    view.need(at, size)
    if (this.wanted[field] === 1) this.store.pushBytes(field, view.offset + at, size, view.data)
    return 0
  }

  set(field: number, value: number): void {
    if (this.wanted[field] === 1) this.store.pushNumber(field, value)
  }

  setBytes(field: number, data: Buffer, at: number, length: number): void {
    if (this.wanted[field] === 1) this.store.pushBytes(field, at, length, data)
  }

  setText(field: number, value: string): void {
    if (this.wanted[field] === 1) this.store.pushText(field, value)
  }

  wants(field: number): boolean {
    return this.wanted[field] === 1
  }

  next(table: string, key: number | string, at: number, altKey?: number | string, handoff = 0): void {
    this.nextTable = this.#tables.table(table)
    this.nextKey = key
    this.nextAlt = altKey
    this.nextAt = this.view.offset + at
    this.nextHandoff = handoff
  }

  nextBytes(table: string, key: number | string, data: Buffer, at: number): void {
    this.next(table, key, 0)
    this.nextAt = at
    this.nextData = data
  }

  hasNext(table: string, key: number | string, altKey?: number | string): boolean {
    return this.#tables.hasNext(this.#tables.table(table), key, altKey)
  }

  nextStream(table: string, key: number | string, at: number, stream: StreamPosition): void {
    this.next(table, key, at, stream.altKey)
    // One object, refilled: the engine reads it before any layer it runs can call this again.
    const s = this.streamDispatch
    s.table = this.nextTable!
    s.key = key
    s.alt = stream.altKey
    s.flow = stream.flow
    s.seq = stream.seq
    s.fin = stream.fin === true
    this.streamNext = s
  }

  inError(): void {
    this.quoted = true
  }

  needMore(bytes: number): void {
    this.need = bytes < 0 ? -1 : Math.max(1, bytes)
  }

  pduLength(length: number): void {
    this.pdu = length
  }

  limit(at: number, length: number): void {
    const end = this.view.offset + at + length
    if (end < this.reportedEnd) this.reportedEnd = end
    if (end < this.end) this.end = end
  }

  malformed(reason: string): void {
    if (this.layer) {
      this.layer.status = 'malformed'
      this.layer.reason = reason
    }
  }

  info(text: string, append = false): void {
    this.infoLine(append).text(text)
    this.undoStart = -1 // whole: it stands even if the layer fails later
  }

  infoLine(append = false): InfoLine {
    if (this.lineDone) {
      this.sink.pos = 0
      return this.sink
    }
    // The owed line is written before anything appends to it (and stands if this layer fails).
    if (append && this.summaryLayer >= 0) this.#tables.writeSummary()
    this.undoSummary = this.summaryLayer
    this.summaryLayer = -1
    this.undoStart = this.lineStart
    this.undoPos = this.line.pos
    this.undoHas = this.hasInfo
    if (!append) {
      const line = this.line
      this.lineStart = line.pos
      if (this.prefixEnd > 0) {
        // A tunnel's line stays in front: copied to where the new line starts.
        const n = this.prefixEnd - this.prefixStart
        line.room(n)
        line.buf.copy(line.buf, line.pos, this.prefixStart, this.prefixEnd)
        this.prefixStart = line.pos
        line.pos += n
        this.prefixEnd = line.pos
      }
    }
    this.hasInfo = true
    return this.line
  }

  infoFromMark(): InfoLine {
    if (this.lineDone) return this.infoLine(true)
    // An owed line below is written first: its mark is where this line goes on from.
    if (this.summaryLayer >= 0) this.#tables.writeSummary()
    const line = this.line
    const from = this.lineStart
    const mark = line.marked
    if (!this.hasInfo || mark < from || mark > line.pos) return this.infoLine(true)
    this.undoSummary = -1
    this.undoStart = from
    this.undoPos = line.pos
    this.undoHas = true
    // A new line after the old one (which stays whole, so undoLine() can put it back), made of
    // the old line's bytes up to the mark; a tunnel prefix at its start moves with it.
    const n = mark - from
    line.room(n)
    const start = line.pos
    line.buf.copy(line.buf, start, from, mark)
    if (this.prefixEnd > 0 && this.prefixStart === from) {
      this.prefixEnd = start + (this.prefixEnd - from)
      this.prefixStart = start
    }
    this.lineStart = start
    line.pos = start + n
    return line
  }

  infoPrefix(): void {
    if (this.lineDone) return
    // A line still owed by a layer below is written now: it is what the prefix keeps.
    if (this.summaryLayer >= 0) this.#tables.writeSummary()
    if (!this.hasInfo) return
    this.prefixStart = this.lineStart
    this.prefixEnd = this.line.pos
  }

  infoDone(): void {
    // Also when the line is still owed: this layer's own summary() (or the one owed below) may
    // still write it after the packet; the layers above may not (see doneLayer).
    this.lineDone = true
    this.doneLayer = this.layer
  }

  /** Forgets the previous packet's tunnel prefix, finished line and handoffs. */
  resetPacket(): void {
    this.prefixEnd = 0
    this.lineDone = false
    this.handoff = this.nextHandoff = 0
    this.nextData = undefined
    this.line.marked = -1
  }

  setPorts(srcPort: number, dstPort: number): void {
    this.srcPort = srcPort
    this.dstPort = dstPort
  }

  setAddresses(srcOffset: number, dstOffset: number, length: number): void {
    this.srcOffset = srcOffset
    this.dstOffset = dstOffset
    this.addrLength = length
  }

  endpointsLine(sport: number, dport: number): InfoLine {
    const n = this.addrLength
    const d = this.view.data
    return this.infoLine().text(n === 16 ? 'IP6 ' : 'IP ').address(d, this.srcOffset, n).char(0x2e).dec(sport)
      .text(' > ').address(d, this.dstOffset, n).char(0x2e).dec(dport)
  }

  addressText(which: 'src' | 'dst'): string {
    const o = which === 'src' ? this.srcOffset : this.dstOffset
    if (o < 0) return ''
    const d = this.view.data
    return this.addrLength === 4 ? `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}` : ipv6Text(d, o)
  }

  state<T>(key: string, create: () => T): T {
    const keys = this.stateKeys
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.stateValues[i] as T
    let v = this.moreState.get(key) as T | undefined
    if (v !== undefined) return v
    v = create()
    if (keys.length < 16) {
      keys.push(key)
      this.stateValues.push(v)
    } else this.moreState.set(key, v)
    return v
  }
}
