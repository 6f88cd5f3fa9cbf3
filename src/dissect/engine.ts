/**
 * DissectionEngine: decodes one packet at a time through the registry's dissectors, starting
 * from the record's link type (`link` table) and following the tables each dissector names.
 * It is the DissectContext that dissectors see. A dissector that reads past the captured bytes
 * leaves its layer marked truncated; one that throws, or calls malformed(), leaves it marked
 * malformed; in both cases the layers before it keep their fields.
 */
import type { RecordBatch } from '../pcap/record-batch.js'
import type { DissectContext } from './api.js'
import { ByteView, TRUNCATED } from './byte-view.js'
import { ipv6Text } from './field-types.js'
import { InfoLine } from './info-line.js'
import { PacketFields, type LayerRecord } from './packet-fields.js'
import type { DissectorRegistry, DissectorTable, RegisteredDissector } from './registry.js'

/** A dispatch over a TCP stream: the table and keys, and where the segment sits in the stream. */
interface StreamDispatch {
  table: DissectorTable
  key: number | string
  alt: number | string | undefined
  flow: number
  seq: number
  fin: boolean
}

/** A PDU whose bytes are being collected across segments. */
interface PendingPdu {
  reg: RegisteredDissector
  chunks: Buffer[]
  length: number
  /** Bytes the PDU needs in all, or -1 for "until the sender closes". */
  need: number
  nextSeq: number
}

/** Upper bound on layers per packet: a loop in hostile data (tunnel in tunnel ...) ends here. */
/** The largest message held for reassembly (tshark has no bound; a file's size must not be one). */
const MAX_PDU_BYTES = 64 * 1024 * 1024
const MAX_LAYERS = 32

/** Decodes packets; one engine per run. */
export class DissectionEngine implements DissectContext {
  readonly store: PacketFields
  frame = 0
  linkType = 0
  sec = 0
  nsec = 0
  wantsInfo = false
  srcOffset = -1
  dstOffset = -1
  addrLength = 0
  /**
   * The summary line of the current packet (when wantsInfo) is line.buf[lineStart, line.pos),
   * when hasInfo. A layer that replaces the line starts a new one after the old (lineStart
   * moves on), so a layer that throws half-way through its line can be undone.
   */
  readonly line = new InfoLine()
  lineStart = 0
  /** Whether a layer set the summary line of the current packet. */
  hasInfo = false
  /** The line as it was before the current layer's infoLine() (undoStart -1: nothing to undo). */
  private undoStart = -1
  private undoPos = 0
  private undoHas = false
  /** Names of the layers of the current packet, for frame.protocols: the first protocolCount. */
  private readonly names: string[] = []
  protocolCount = 0
  private readonly wanted: Uint8Array
  /** Per field id: 1 for number types (uint, int, bool), whose add() reads a value. */
  private readonly numeric: Uint8Array
  private readonly view = new ByteView()
  /**
   * Run state by key: the first keys in a short list, scanned (dissectors ask for theirs on
   * every packet, and this beats hashing the key), any more in a Map.
   */
  private readonly stateKeys: string[] = []
  private readonly stateValues: unknown[] = []
  private readonly moreState = new Map<string, unknown>()
  private nextTable: DissectorTable | undefined
  private nextKey: number | string = 0
  private nextAlt: number | string | undefined
  private nextAt = 0
  private end = 0 // absolute end of the captured bytes in scope
  private reportedEnd = 0 // absolute end of the bytes on the wire in scope
  private layer: LayerRecord | undefined
  /** Stream dispatch requested by the current layer (TCP), if any. */
  private streamNext: StreamDispatch | undefined
  /** PDUs waiting for more segments, by flow (stream * 2 + direction). */
  private readonly pending = new Map<number, PendingPdu>()
  /** Set by needMore() and pduLength() during a layer. */
  private need = 0
  private pdu = -1
  /** Flow id of the stream being dissected, or -1. */
  flow = -1
  /**
   * Skip layers that cannot lead to a wanted field (set when only some fields are printed and
   * frame.protocols is not one of them: the layers then do not show).
   */
  prune = false
  /** Per dissector index: 0 not yet known, 1 leads to a wanted field, 2 does not. */
  private readonly useful: Uint8Array
  /** Tables as dissectors name them in next(), and their names (a short list, scanned: faster than a Map). */
  private readonly tableNames: string[] = []
  private readonly tableList: DissectorTable[] = []
  private readonly linkTable: DissectorTable

  constructor(readonly registry: DissectorRegistry, wantAll: boolean, wantedFields: Iterable<number> = []) {
    const n = registry.fields.length
    this.store = new PacketFields(n)
    this.wanted = new Uint8Array(n)
    if (wantAll) this.wanted.fill(1)
    for (const id of wantedFields) this.wanted[id] = 1
    this.numeric = new Uint8Array(n)
    for (let id = 0; id < n; id++) {
      const t = registry.fields[id].type
      if (t === 'uint' || t === 'int' || t === 'bool') this.numeric[id] = 1
    }
    this.useful = new Uint8Array(registry.dissectors.length)
    this.linkTable = this.table('link')
  }

  /** The dissector table named `name`. */
  private table(name: string): DissectorTable {
    const names = this.tableNames
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.tableList[i]
    const t = this.registry.table(name)
    if (names.length < 32) {
      names.push(name)
      this.tableList.push(t)
    }
    return t
  }

  /** The layers of the current packet, in order (`['eth', 'ethertype', 'ip', 'tcp']`). */
  get protocols(): string[] {
    return this.names.slice(0, this.protocolCount)
  }

  /** frame.protocols of the current packet (`eth:ethertype:ip:tcp`). */
  protocolsText(): string {
    const p = this.names
    let s = ''
    for (let i = 0; i < this.protocolCount; i++) s += i === 0 ? p[i] : ':' + p[i]
    return s
  }

  /** Forgets the current packet without decoding another (a record that is not a packet). */
  clear(): void {
    this.store.reset()
    this.protocolCount = 0
    this.hasInfo = false
    this.line.pos = 0
    this.lineStart = 0
  }

  /** The summary line as text ('' when no layer set one). */
  infoText(): string {
    return this.hasInfo ? this.line.buf.toString('utf8', this.lineStart, this.line.pos) : ''
  }

  private pushProtocol(name: string): void {
    this.names[this.protocolCount++] = name
  }

  /** Decodes record i of the batch; its fields are then in `store`. */
  dissect(batch: RecordBatch, i: number): void {
    this.clear()
    this.frame = batch.firstNumber + i
    this.linkType = batch.linkType[i]
    this.sec = batch.tsSec[i]
    this.nsec = batch.tsNsec[i]
    this.srcOffset = this.dstOffset = -1
    this.addrLength = 0
    this.flow = -1
    this.streamNext = undefined
    const start = batch.offset[i]
    this.end = start + batch.capLen[i]
    this.reportedEnd = start + batch.origLen[i]
    this.run(batch.data, this.linkTable, batch.linkType[i], undefined, start)
  }

  /** Follows the tables from `table`/`key` at `at`, layer after layer. */
  private run(data: Buffer, table: DissectorTable, key: number | string, alt: number | string | undefined, at: number): void {
    for (let depth = 0; depth < MAX_LAYERS; depth++) {
      const stream = this.streamNext
      this.streamNext = undefined
      // Bytes continuing a PDU held for this flow go to its dissector, whatever they look like.
      const held = stream !== undefined ? this.pending.get(stream.flow) : undefined
      const d = held !== undefined ? held.reg : this.find(data, table, key, alt, at)
      if (d !== undefined && this.prune && !this.leadsToWanted(d)) return
      if (d === undefined) {
        if (table !== this.linkTable && this.reportedEnd - at > 0) this.dataLayer(at)
        return
      }
      if (table.label !== undefined) this.pushProtocol(table.label)
      this.nextTable = undefined
      if (stream !== undefined) return this.runStream(data, d, at, stream)
      if (!this.layerOnce(d, data, at, this.end, this.reportedEnd)) return
      if (this.nextTable === undefined) return
      table = this.nextTable
      key = this.nextKey
      alt = this.nextAlt
      at = this.nextAt
    }
  }

  /** The dissector for a table dispatch: by key, by the alternative key, then by heuristics. */
  private find(data: Buffer, table: DissectorTable, key: number | string, alt: number | string | undefined, at: number): RegisteredDissector | undefined {
    let d = table.get(key)
    if (d === undefined && alt !== undefined) d = table.get(alt)
    if (d !== undefined) return d
    const heur = table.heuristics
    if (heur.length === 0 || this.end <= at) return undefined
    const view = this.view.set(data, at, this.end - at, Math.max(0, this.reportedEnd - at))
    for (const h of heur) {
      try { if (h.def.recognize!(view)) return h } catch { /* not this one */ }
    }
    return undefined
  }

  /** Runs one dissector over data[at, end); false when the layer ended the packet (damage). */
  private layerOnce(d: RegisteredDissector, data: Buffer, at: number, end: number, reportedEnd: number): boolean {
    const store = this.store
    const view = this.view.set(data, at, Math.max(0, end - at), Math.max(0, reportedEnd - at))
    const name = d.name
    this.pushProtocol(name)
    const layer = store.openLayer(name, at, view.captured)
    this.layer = layer
    if (this.wanted[d.protoId] === 1) store.pushBytes(d.protoId, at, view.captured, data)
    this.need = 0
    this.pdu = -1
    this.undoStart = -1
    try {
      d.dissect.call(d.def, view, this, d.ids)
    } catch (err) {
      layer.endOcc = store.count
      if (this.undoStart >= 0) {
        // A line written through infoLine() may be half done: the line is the layers' below.
        this.lineStart = this.undoStart
        this.line.pos = this.undoPos
        this.hasInfo = this.undoHas
      }
      if (err === TRUNCATED) layer.status = 'truncated'
      else {
        layer.status = 'malformed'
        layer.reason = err instanceof Error ? err.message : String(err)
      }
      return false
    }
    layer.endOcc = store.count
    if (layer.status !== 'ok') return false
    if (this.nextTable !== undefined) layer.length = Math.max(0, Math.min(this.nextAt, end) - layer.start)
    return true
  }

  /** Forgets the layer just opened (a PDU that needs more segments shows on the frame that completes it). */
  private dropLayer(d: RegisteredDissector): void {
    const store = this.store
    const layer = store.layers[--store.layerCount]
    store.rollback(layer.firstOcc)
    if (this.protocolCount > 0 && this.names[this.protocolCount - 1] === d.name) this.protocolCount--
  }

  /**
   * Wireshark's desegmentation contract over one direction of a TCP stream: a dissector that
   * calls needMore() has its bytes held until the segments that complete its PDU arrive, and is
   * then run on the whole PDU at the completing frame; one that calls pduLength() with bytes left
   * over is run again on the rest (pipelined messages in one segment).
   */
  private runStream(data: Buffer, d: RegisteredDissector, at: number, s: StreamDispatch): void {
    const len = Math.max(0, this.end - at)
    const pending = this.pending.get(s.flow)
    let buf = data
    let from = at
    let to = this.end
    let reported = this.reportedEnd
    if (pending !== undefined) {
      const gap = (s.seq - pending.nextSeq) | 0
      if (gap < 0) return // a retransmission of bytes already held
      if (gap > 0) this.pending.delete(s.flow) // bytes lost before this segment: give the PDU up
      else {
        pending.chunks.push(Buffer.from(data.subarray(at, this.end)))
        pending.length += len
        pending.nextSeq = (pending.nextSeq + len) >>> 0
        const complete = pending.need === -1 ? s.fin : pending.length >= pending.need
        if (!complete) {
          // Memory stays bounded by live state: a message the sender closed short of, or one
          // this large, is given up, not held.
          if (s.fin || pending.length > MAX_PDU_BYTES) this.pending.delete(s.flow)
          return
        }
        this.pending.delete(s.flow)
        buf = Buffer.concat(pending.chunks, pending.length)
        from = 0
        to = reported = buf.length
        d = pending.reg
      }
    }
    this.flow = s.flow
    // From here on the layers read `buf` (the segment, or the reassembled PDU).
    this.end = to
    this.reportedEnd = reported
    for (let n = 0; n < MAX_LAYERS && from < to; n++) {
      // Pipelined PDUs in one segment show the protocol once in frame.protocols, as tshark does.
      const shown = n > 0 && this.protocolCount > 0 && this.names[this.protocolCount - 1] === d.name
      if (!this.layerOnce(d, buf, from, to, reported)) return
      if (shown) this.protocolCount--
      const need = this.need
      const pdu = this.pdu
      if (need !== 0 && !(need === -1 && s.fin)) {
        this.dropLayer(d)
        const copy = Buffer.from(buf.subarray(from, to))
        this.pending.set(s.flow, {
          reg: d, chunks: [copy], length: copy.length,
          need: need === -1 ? -1 : copy.length + need,
          nextSeq: (s.seq + len) >>> 0,
        })
        return
      }
      if (this.nextTable !== undefined) {
        // The PDU's dissector hands on (to a media type): follow it within the PDU.
        const pduEnd = pdu >= 0 ? from + pdu : to
        this.end = this.reportedEnd = pduEnd
        this.run(buf, this.nextTable, this.nextKey, this.nextAlt, this.nextAt)
        this.end = to
        this.reportedEnd = reported
      }
      if (pdu < 0 || pdu >= to - from) return
      from += pdu
      const next = this.find(buf, s.table, s.key, s.alt, from)
      if (next === undefined) return
      d = next
    }
  }

  /** Whether running `d` can record a wanted field (cached per dissector). */
  private leadsToWanted(d: RegisteredDissector): boolean {
    const u = this.useful[d.index]
    if (u === 1 || u === 2) return u === 1
    // Not known yet (or registered after this engine was made, past the array: not cached).
    const yes = this.registry.leadsTo(d, this.wanted)
    if (d.index < this.useful.length) this.useful[d.index] = yes ? 1 : 2
    return yes
  }

  /** Whether a dispatch would find `d` worth running. */
  private usable(d: RegisteredDissector | undefined): boolean {
    return d !== undefined && (!this.prune || this.leadsToWanted(d))
  }

  private dataLayer(at: number): void {
    this.pushProtocol('data')
    const layer = this.store.openLayer('data', at, Math.max(0, this.end - at))
    layer.endOcc = this.store.count
  }

  // --- DissectContext ---

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
    this.nextTable = this.table(table)
    this.nextKey = key
    this.nextAlt = altKey
    this.nextAt = this.view.offset + at
  }

  hasNext(table: string, key: number | string, altKey?: number | string): boolean {
    const t = this.table(table)
    if (this.usable(t.get(key)) || (altKey !== undefined && this.usable(t.get(altKey)))) return true
    for (const h of t.heuristics) if (this.usable(h)) return true
    return false
  }

  nextStream(table: string, key: number | string, at: number, altKey: number | string | undefined, flow: number, seq: number, fin: boolean): void {
    this.next(table, key, at, altKey)
    this.streamNext = { table: this.nextTable!, key, alt: altKey, flow, seq, fin }
  }

  needMore(bytes: number): void {
    this.need = bytes < 0 ? -1 : Math.max(1, bytes)
  }

  pduLength(length: number): void {
    this.pdu = length
  }

  limit(at: number, length: number): void {
    const abs = this.view.offset + at
    const end = abs + length
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
    this.undoStart = -1 // whole: it stands even if the layer fails later, as it always did
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
