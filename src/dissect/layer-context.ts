/**
 * LayerContext: the DissectContext a dissector is handed, one per engine, reused for every
 * layer. It holds what the current layer may read and write (its fields, the summary line,
 * the network addresses, run state) and records the dissector's requests (the next table, more
 * bytes, the PDU's length), which the engine acts on once the dissector returns. Dissectors see
 * this object, never the engine.
 */
import type { DissectContext } from './api.js'
import { ByteView } from './byte-view.js'
import { ipv6Text } from './field-types.js'
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
  srcOffset = -1
  dstOffset = -1
  addrLength = 0
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
  readonly view = new ByteView()
  /** The layer being decoded (malformed() marks it). */
  layer: LayerRecord | undefined
  /** Requests of the current layer: the next table (undefined: none), more bytes, its PDU length. */
  nextTable: DissectorTable | undefined
  nextKey: number | string = 0
  nextAlt: number | string | undefined
  nextAt = 0
  streamNext: StreamDispatch | undefined
  need = 0
  pdu = -1
  /** Absolute ends of the captured bytes and of the bytes on the wire in scope (limit() lowers them). */
  end = 0
  reportedEnd = 0
  /** Per field id: 1 for number types (uint, int, bool), whose add() reads a value. */
  private readonly numeric: Uint8Array
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
    fieldTypes: ReadonlyArray<{ type: string }>,
    tables: TableSource,
  ) {
    this.#tables = tables
    this.numeric = new Uint8Array(fieldTypes.length)
    for (let id = 0; id < fieldTypes.length; id++) {
      const t = fieldTypes[id].type
      if (t === 'uint' || t === 'int' || t === 'bool') this.numeric[id] = 1
    }
  }

  /** Puts the line back as it was before the current layer's infoLine() (the layer failed). */
  undoLine(): void {
    if (this.undoStart < 0) return
    this.lineStart = this.undoStart
    this.line.pos = this.undoPos
    this.hasInfo = this.undoHas
  }

  add(field: number, at: number, size: number): number {
    const view = this.view
    if (this.numeric[field] === 1) {
      const value = size === 1 ? view.u8(at) : size === 2 ? view.u16(at) : size === 4 ? view.u32(at) : (view.u16(at) << 8) | view.u8(at + 2)
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

  setText(field: number, value: string): void {
    if (this.wanted[field] === 1) this.store.pushText(field, value)
  }

  wants(field: number): boolean {
    return this.wanted[field] === 1
  }

  next(table: string, key: number | string, at: number, altKey?: number | string): void {
    this.nextTable = this.#tables.table(table)
    this.nextKey = key
    this.nextAlt = altKey
    this.nextAt = this.view.offset + at
  }

  hasNext(table: string, key: number | string, altKey?: number | string): boolean {
    return this.#tables.hasNext(this.#tables.table(table), key, altKey)
  }

  nextStream(table: string, key: number | string, at: number, altKey: number | string | undefined, flow: number, seq: number, fin: boolean): void {
    this.next(table, key, at, altKey)
    this.streamNext = { table: this.nextTable!, key, alt: altKey, flow, seq, fin }
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
    this.undoStart = this.lineStart
    this.undoPos = this.line.pos
    this.undoHas = this.hasInfo
    if (!append) this.lineStart = this.line.pos
    this.hasInfo = true
    return this.line
  }

  setAddresses(srcOffset: number, dstOffset: number, length: number): void {
    this.srcOffset = srcOffset
    this.dstOffset = dstOffset
    this.addrLength = length
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
