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
import { ipv6Text, type FieldSpec } from './field-types.js'
import { PacketFields, type LayerRecord } from './packet-fields.js'
import type { DissectorRegistry, RegisteredDissector } from './registry.js'

/** Upper bound on layers per packet: a loop in hostile data (tunnel in tunnel ...) ends here. */
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
  /** Summary pieces of the current packet (when wantsInfo). */
  infoParts: string[] = []
  /** Names of the layers of the current packet, for frame.protocols. */
  readonly protocols: string[] = []
  private readonly wanted: Uint8Array
  private readonly view = new ByteView()
  private readonly runState = new Map<string, unknown>()
  private nextTable: string | undefined
  private nextKey: number | string = 0
  private nextAlt: number | string | undefined
  private nextAt = 0
  private end = 0 // absolute end of the captured bytes in scope
  private reportedEnd = 0 // absolute end of the bytes on the wire in scope
  private layer: LayerRecord | undefined

  constructor(readonly registry: DissectorRegistry, wantAll: boolean, wantedFields: Iterable<number> = []) {
    this.store = new PacketFields(registry.fields.length)
    this.wanted = new Uint8Array(registry.fields.length)
    if (wantAll) this.wanted.fill(1)
    for (const id of wantedFields) this.wanted[id] = 1
  }

  /** Decodes record i of the batch; its fields are then in `store`. */
  dissect(batch: RecordBatch, i: number): void {
    const store = this.store
    store.reset()
    this.protocols.length = 0
    if (this.wantsInfo) this.infoParts.length = 0
    this.frame = batch.firstNumber + i
    this.linkType = batch.linkType[i]
    this.sec = batch.tsSec[i]
    this.nsec = batch.tsNsec[i]
    this.srcOffset = this.dstOffset = -1
    this.addrLength = 0
    const data = batch.data
    const start = batch.offset[i]
    this.end = start + batch.capLen[i]
    this.reportedEnd = start + batch.origLen[i]
    let table = 'link'
    let key: number | string = batch.linkType[i]
    let alt: number | string | undefined
    let at = start
    const reg = this.registry
    for (let depth = 0; depth < MAX_LAYERS; depth++) {
      let d: RegisteredDissector | undefined = reg.lookup(table, key)
      if (d === undefined && alt !== undefined) d = reg.lookup(table, alt)
      const view = this.view.set(data, at, Math.max(0, this.end - at), Math.max(0, this.reportedEnd - at))
      if (d === undefined) {
        const heur = reg.heuristicsFor(table)
        if (heur !== undefined && view.captured > 0) {
          for (const h of heur) {
            try { if (h.def.recognize!(view)) { d = h; break } } catch { /* not this one */ }
          }
        }
      }
      if (d === undefined) {
        if (table !== 'link' && view.reported > 0) this.dataLayer(at)
        return
      }
      const label = reg.tableLabel(table)
      if (label !== undefined) this.protocols.push(label)
      this.protocols.push(d.def.name)
      const layer = store.openLayer(d.def.name, at, view.captured)
      this.layer = layer
      store.push(d.protoId, 0, at, view.captured)
      this.nextTable = undefined
      try {
        d.def.dissect(view, this, d.ids)
      } catch (err) {
        layer.endOcc = store.count
        if (err === TRUNCATED) {
          layer.status = 'truncated'
        } else {
          layer.status = 'malformed'
          layer.reason = err instanceof Error ? err.message : String(err)
        }
        return
      }
      layer.endOcc = store.count
      if (layer.status !== 'ok' || this.nextTable === undefined) return
      table = this.nextTable
      key = this.nextKey
      alt = this.nextAlt
      at = this.nextAt
      layer.length = Math.max(0, Math.min(at, this.end) - layer.start)
    }
  }

  private dataLayer(at: number): void {
    this.protocols.push('data')
    const layer = this.store.openLayer('data', at, Math.max(0, this.end - at))
    layer.endOcc = this.store.count
  }

  // --- DissectContext ---

  add(field: number, at: number, size: number): number {
    const view = this.view
    const spec: FieldSpec = this.registry.fields[field]
    let value = 0
    switch (spec.type) {
      case 'uint': case 'int': case 'bool':
        value = size === 1 ? view.u8(at) : size === 2 ? view.u16(at) : size === 4 ? view.u32(at) : (view.u16(at) << 8) | view.u8(at + 2)
        if (this.wanted[field] === 1) this.store.push(field, value, -1, 0)
        return value
      default:
        view.need(at, size)
        if (this.wanted[field] === 1) this.store.push(field, 0, view.offset + at, size)
        return 0
    }
  }

  set(field: number, value: number): void {
    if (this.wanted[field] === 1) this.store.push(field, value, -1, 0)
  }

  setText(field: number, value: string): void {
    if (this.wanted[field] === 1) this.store.push(field, 0, -1, 0, value)
  }

  wants(field: number): boolean {
    return this.wanted[field] === 1
  }

  next(table: string, key: number | string, at: number, altKey?: number | string): void {
    this.nextTable = table
    this.nextKey = key
    this.nextAlt = altKey
    this.nextAt = this.view.offset + at
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
    if (!append) this.infoParts.length = 0
    this.infoParts.push(text)
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
    let v = this.runState.get(key) as T | undefined
    if (v === undefined) {
      v = create()
      this.runState.set(key, v)
    }
    return v
  }
}
