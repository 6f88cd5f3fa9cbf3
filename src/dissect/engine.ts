/**
 * DissectionEngine: decodes one packet at a time through the registry's dissectors, starting
 * from the record's link type (`link` table) and following the tables each dissector names, and
 * yields the result as a DissectedPacket. Its configuration comes from what its consumers
 * declare they need (DissectionNeeds): only wanted fields are recorded, the summary line is
 * written only when asked for, and layers that cannot lead to a wanted field are skipped when
 * nothing needs every layer. Dissectors see a LayerContext, never the engine. A dissector that
 * reads past the captured bytes leaves its layer marked truncated; one that throws, or calls
 * malformed(), leaves it marked malformed; in both cases the layers before it keep their fields.
 * Its length (~410 lines) is one concern: the table dispatch, the owed summary line and TCP
 * desegmentation (runStream) all work on the one packet's state (context, layer store,
 * frame.protocols' names), per packet; what consumers ask of it is in dissection-needs.ts.
 */
import type { RecordBatch } from '../pcap/record-batch.js'
import { TRUNCATED } from './byte-view.js'
import { DissectedPacket } from './dissected-packet.js'
import type { DissectionNeeds } from './dissection-needs.js'
import { LayerContext, type StreamDispatch, type TableSource } from './layer-context.js'
import { PacketFields } from './packet-fields.js'
import type { DissectorRegistry, DissectorTable, RegisteredDissector } from './registry.js'

export { mergeNeeds, type DissectionNeeds } from './dissection-needs.js'

/** A PDU whose bytes are being collected across segments. */
interface PendingPdu {
  reg: RegisteredDissector
  chunks: Buffer[]
  length: number
  /** Bytes the PDU needs in all, or -1 for "until the sender closes". */
  need: number
  nextSeq: number
  /**
   * Bytes before a segment of the PDU were lost (not captured, or a segment overtook another):
   * the PDU is given up, and its remaining segments show as TCP only.
   */
  lost: boolean
}

/** The largest message held for reassembly (tshark has no bound; a file's size must not be one). */
const MAX_PDU_BYTES = 64 * 1024 * 1024
/** Upper bound on layers per packet: a loop in hostile data (tunnel in tunnel ...) ends here. */
const MAX_LAYERS = 32

/** Decodes packets; one engine per run (it keeps the run's stream and reassembly state). */
export class DissectionEngine implements TableSource {
  /** The packet last dissected (the same object every time; see DissectedPacket). */
  readonly packet: DissectedPacket
  private readonly store: PacketFields
  private readonly ctx: LayerContext
  private readonly wanted: Uint8Array
  /** Names of the layers of the current packet, for frame.protocols: the first protocolCount. */
  private readonly names: string[] = []
  private protocolCount = 0
  /** Record the frame.* fields (any of them is wanted), frame.protocols (wanted by id). */
  private readonly frameWanted: boolean
  private readonly protocolsWanted: boolean
  /** PDUs waiting for more segments, by flow (stream * 2 + direction). */
  private readonly pending = new Map<number, PendingPdu>()
  /**
   * Skip layers that cannot lead to a wanted field (when no consumer needs the summary line,
   * every field or every layer: the skipped layers then show nowhere).
   */
  private readonly prune: boolean
  /** Per dissector index: 0 not yet known, 1 leads to a wanted field, 2 does not. */
  private readonly useful: Uint8Array
  /** Tables as dissectors name them in next(), and their names (a short list, scanned: faster than a Map). */
  private readonly tableNames: string[] = []
  private readonly tableList: DissectorTable[] = []
  private readonly linkTable: DissectorTable
  /** The layer whose summary() line is owed (ctx.summaryLayer), and the bytes it was dissected from. */
  private summaryReg: RegisteredDissector | undefined
  private summaryData: Buffer = Buffer.alloc(0)
  private summaryAt = 0
  private summaryCaptured = 0
  private summaryReported = 0

  constructor(readonly registry: DissectorRegistry, needs: DissectionNeeds = {}) {
    const n = registry.fields.length
    this.store = new PacketFields(n)
    this.wanted = new Uint8Array(n)
    if (needs.allFields) this.wanted.fill(1)
    for (const id of needs.fields ?? []) this.wanted[id] = 1
    const f = registry.frame
    this.frameWanted = [f.proto, f.number, f.timeEpoch, f.len, f.capLen, f.interfaceId].some((id) => this.wanted[id] === 1)
    // frame.protocols is text made per packet: only when a consumer names it.
    this.protocolsWanted = [...(needs.fields ?? [])].includes(f.protocols)
    this.prune = !needs.info && !needs.allFields && !needs.allLayers && !this.protocolsWanted
    this.ctx = new LayerContext(this.store, this.wanted, registry.fields, this)
    this.ctx.wantsInfo = needs.info === true
    this.ctx.summaryOnly = needs.info === true && !needs.allLayers && !this.protocolsWanted && !this.wanted.includes(1)
    this.useful = new Uint8Array(registry.dissectors.length)
    this.linkTable = this.table('link')
    this.packet = new DissectedPacket(registry, this.store, this.store.layers, this.names, this.ctx.line)
  }

  /** The dissector table named `name`. */
  table(name: string): DissectorTable {
    const names = this.tableNames
    for (let i = 0; i < names.length; i++) if (names[i] === name) return this.tableList[i]
    const t = this.registry.table(name)
    if (names.length < 32) {
      names.push(name)
      this.tableList.push(t)
    }
    return t
  }

  /** Forgets the current packet without decoding another (a record that is not a packet). */
  clear(): DissectedPacket {
    this.store.reset()
    this.protocolCount = 0
    const ctx = this.ctx
    ctx.hasInfo = false
    ctx.line.pos = 0
    ctx.lineStart = 0
    ctx.resetPacket()
    ctx.summaryLayer = -1
    this.summaryReg = undefined
    return this.publish()
  }

  /** Decodes record i of the batch and returns the packet (valid until the next call). */
  dissect(batch: RecordBatch, i: number): DissectedPacket {
    this.clear()
    const ctx = this.ctx
    const packet = this.packet
    const start = batch.offset[i]
    ctx.frame = packet.number = batch.firstNumber + i
    ctx.linkType = packet.linkType = batch.linkType[i]
    ctx.sec = packet.sec = batch.tsSec[i]
    ctx.nsec = packet.nsec = batch.tsNsec[i]
    packet.capLen = batch.capLen[i]
    packet.origLen = batch.origLen[i]
    packet.data = batch.data
    packet.offset = start
    ctx.srcOffset = ctx.dstOffset = -1
    ctx.addrLength = 0
    ctx.srcPort = ctx.dstPort = -1
    ctx.flow = -1
    ctx.quoted = false
    ctx.streamNext = undefined
    ctx.end = start + batch.capLen[i]
    ctx.reportedEnd = start + batch.origLen[i]
    if (this.frameWanted) this.frameFields(batch, i)
    this.run(batch.data, this.linkTable, batch.linkType[i], undefined, start)
    if (ctx.summaryLayer >= 0) this.writeSummary()
    this.publish()
    if (this.protocolsWanted) this.store.pushText(this.registry.frame.protocols, packet.protocolsText())
    return packet
  }

  /** The frame.* fields of record i (those wanted). */
  private frameFields(batch: RecordBatch, i: number): void {
    const f = this.registry.frame
    const w = this.wanted
    const store = this.store
    if (w[f.proto] === 1) store.pushBytes(f.proto, batch.offset[i], batch.capLen[i], batch.data)
    if (w[f.number] === 1) store.pushNumber(f.number, batch.firstNumber + i)
    if (w[f.timeEpoch] === 1 && !Number.isNaN(batch.tsSec[i])) store.pushNumber(f.timeEpoch, batch.tsSec[i] + batch.tsNsec[i] / 1e9)
    if (w[f.len] === 1) store.pushNumber(f.len, batch.origLen[i])
    if (w[f.capLen] === 1) store.pushNumber(f.capLen, batch.capLen[i])
    if (w[f.interfaceId] === 1) {
      const id = batch.interfaceId(i)
      if (id >= 0) store.pushNumber(f.interfaceId, id)
    }
  }

  /** Copies the per-packet summary (layers, line) into the packet view. */
  private publish(): DissectedPacket {
    const packet = this.packet
    const ctx = this.ctx
    packet.layerCount = packet.lineLayers = this.store.layerCount
    if (ctx.lineDone && ctx.doneLayer) {
      for (let l = 0; l < packet.layerCount; l++) if (packet.layer(l) === ctx.doneLayer) packet.lineLayers = l + 1
    }
    packet.protocolCount = this.protocolCount
    packet.hasInfo = ctx.hasInfo
    packet.infoStart = ctx.lineStart
    return packet
  }

  private pushProtocol(name: string): void {
    this.names[this.protocolCount++] = name
  }

  /** Follows the tables from `table`/`key` at `at`, layer after layer. */
  private run(data: Buffer, table: DissectorTable, key: number | string, alt: number | string | undefined, at: number): void {
    const ctx = this.ctx
    for (let depth = 0; depth < MAX_LAYERS; depth++) {
      const stream = ctx.streamNext
      ctx.streamNext = undefined
      // Bytes continuing a PDU held for this flow go to its dissector, whatever they look like.
      const held = stream !== undefined ? this.pending.get(stream.flow) : undefined
      const d = held !== undefined ? held.reg : this.find(data, table, key, alt, at)
      if (d !== undefined && this.prune && !this.leadsToWanted(d)) return
      if (d === undefined) {
        if (table !== this.linkTable && ctx.reportedEnd - at > 0) this.dataLayer(at)
        return
      }
      if (table.label !== undefined) this.pushProtocol(table.label)
      ctx.nextTable = undefined
      if (stream !== undefined) return this.runStream(data, d, at, stream)
      if (!this.layerOnce(d, data, at, ctx.end, ctx.reportedEnd)) return
      if (ctx.nextTable === undefined) return
      table = ctx.nextTable
      key = ctx.nextKey
      alt = ctx.nextAlt
      at = ctx.nextAt
      ctx.handoff = ctx.nextHandoff
      if (ctx.nextData !== undefined) {
        // The layers above read bytes the layer put together (a reassembled IP datagram).
        data = ctx.nextData
        ctx.nextData = undefined
        ctx.end = ctx.reportedEnd = data.length
      }
    }
  }

  /** The dissector for a table dispatch: by key, by the alternative key, then by heuristics. */
  private find(data: Buffer, table: DissectorTable, key: number | string, alt: number | string | undefined, at: number): RegisteredDissector | undefined {
    let d = table.get(key)
    if (d === undefined && alt !== undefined) d = table.get(alt)
    if (d !== undefined) return d
    const heur = table.heuristics
    const ctx = this.ctx
    if (heur.length === 0 || ctx.end <= at) return undefined
    const view = ctx.view.set(data, at, ctx.end - at, Math.max(0, ctx.reportedEnd - at))
    for (const h of heur) {
      try { if (h.def.recognize!(view)) return h } catch { /* not this one */ }
    }
    return undefined
  }

  /** Runs one dissector over data[at, end); false when the layer ended the packet (damage). */
  private layerOnce(d: RegisteredDissector, data: Buffer, at: number, end: number, reportedEnd: number): boolean {
    const store = this.store
    const ctx = this.ctx
    const view = ctx.view.set(data, at, Math.max(0, end - at), Math.max(0, reportedEnd - at))
    this.pushProtocol(d.name)
    const layer = store.openLayer(d.name, at, view.captured)
    ctx.layer = layer
    if (this.wanted[d.protoId] === 1) store.pushBytes(d.protoId, at, view.captured, data)
    ctx.need = 0
    ctx.pdu = -1
    ctx.undoStart = -1
    try {
      d.dissect.call(d.def, view, ctx, d.ids, d.prefs)
    } catch (err) {
      layer.endOcc = store.count
      // A line written through infoLine() may be half done: the line is the layers' below.
      ctx.undoLine()
      if (err === TRUNCATED) layer.status = 'truncated'
      else {
        layer.status = 'malformed'
        layer.reason = err instanceof Error ? err.message : String(err)
      }
      return false
    }
    layer.endOcc = store.count
    if (layer.status !== 'ok') return false
    if (ctx.wantsInfo && d.def.summary !== undefined && (!ctx.lineDone || ctx.doneLayer === layer)) {
      // The topmost complete layer with a fallback line owes it, unless a layer above replaces it.
      ctx.summaryLayer = store.layerCount - 1
      this.summaryReg = d
      this.summaryData = data
      this.summaryAt = at
      this.summaryCaptured = view.captured
      this.summaryReported = view.reported
    }
    if (ctx.nextTable !== undefined && ctx.nextData === undefined) layer.length = Math.max(0, Math.min(ctx.nextAt, end) - layer.start)
    return true
  }

  /**
   * TableSource.writeSummary: runs the owed layer's summary() over that layer's bytes. The
   * current layer's view and record are put back afterwards (a layer above may be mid-dissect,
   * about to append to the line).
   */
  writeSummary(): void {
    const ctx = this.ctx
    const d = this.summaryReg
    ctx.summaryLayer = -1
    this.summaryReg = undefined
    if (d === undefined) return
    const view = ctx.view
    const data = view.data, offset = view.offset, captured = view.captured, reported = view.reported
    const layer = ctx.layer
    const undoStart = ctx.undoStart, undoPos = ctx.undoPos, undoHas = ctx.undoHas, undoSummary = ctx.undoSummary
    view.set(this.summaryData, this.summaryAt, this.summaryCaptured, this.summaryReported)
    ctx.layer = undefined
    // The owed line is the one a finished line (infoDone) stands for: it may be written.
    const done = ctx.lineDone
    ctx.lineDone = false
    try {
      d.def.summary!.call(d.def, view, ctx, d.ids)
    } catch {
      // Its bytes were read once already; a summary that fails anyway leaves no half line.
      ctx.undoLine()
    } finally {
      view.set(data, offset, captured, reported)
      ctx.lineDone = done
      ctx.layer = layer
      ctx.undoStart = undoStart
      ctx.undoPos = undoPos
      ctx.undoHas = undoHas
      ctx.undoSummary = undoSummary
    }
  }

  /**
   * Forgets the layer just opened (a PDU that needs more segments shows on the frame that
   * completes it). `named`: the layer still has its own name in frame.protocols (not one folded
   * into the PDU before it in the same segment, whose name stays).
   */
  private dropLayer(d: RegisteredDissector, named: boolean): void {
    const store = this.store
    const layer = store.layers[--store.layerCount]
    store.rollback(layer.firstOcc)
    if (this.ctx.summaryLayer === store.layerCount) this.ctx.summaryLayer = -1
    if (named && this.protocolCount > 0 && this.names[this.protocolCount - 1] === d.name) this.protocolCount--
  }

  /**
   * Wireshark's desegmentation contract over one direction of a TCP stream: a dissector that
   * calls needMore() has its bytes held until the segments that complete its PDU arrive, and is
   * then run on the whole PDU at the completing frame; one that calls pduLength() with bytes left
   * over is run again on the rest (pipelined messages in one segment).
   */
  private runStream(data: Buffer, d: RegisteredDissector, at: number, s: StreamDispatch): void {
    // The context refills the one StreamDispatch at every nextStream(), a layer run from here too.
    const { table, key, alt, flow, seq, fin } = s
    const ctx = this.ctx
    const len = Math.max(0, ctx.end - at)
    const pending = this.pending.get(flow)
    let buf = data
    let from = at
    let to = ctx.end
    let reported = ctx.reportedEnd
    if (pending !== undefined) {
      const gap = (seq - pending.nextSeq) | 0
      if (pending.lost || gap > 0) {
        // A PDU with bytes missing is given up, and the segments inside it show as TCP only, as
        // tshark shows the segments of a PDU it cannot complete ("previous segment not captured";
        // tcp.reassemble_out_of_order is off by default). A segment from the PDU's end on starts
        // what follows it.
        pending.lost = true
        // Bytes of the PDU from this segment's start on (-1: until the sender closes).
        const left = pending.need === -1 ? -1 : ((pending.nextSeq + pending.need - pending.length - seq) | 0)
        if (left !== -1 && left <= 0) this.pending.delete(flow)
        else {
          if (fin || (left !== -1 && left < len)) this.pending.delete(flow) // the PDU ends here
          return
        }
      } else if (gap < 0) return // a retransmission of bytes already held
      else {
        pending.chunks.push(Buffer.from(data.subarray(at, ctx.end)))
        pending.length += len
        pending.nextSeq = (pending.nextSeq + len) >>> 0
        const complete = pending.need === -1 ? fin : pending.length >= pending.need
        if (!complete) {
          // Memory stays bounded by live state: a message the sender closed short of, or one
          // this large, is given up, not held.
          if (fin || pending.length > MAX_PDU_BYTES) this.pending.delete(flow)
          return
        }
        this.pending.delete(flow)
        buf = Buffer.concat(pending.chunks, pending.length)
        from = 0
        to = reported = buf.length
        d = pending.reg
      }
    }
    ctx.flow = flow
    // From here on the layers read `buf` (the segment, or the reassembled PDU).
    ctx.end = to
    ctx.reportedEnd = reported
    for (let n = 0; n < MAX_LAYERS && from < to; n++) {
      // Pipelined PDUs in one segment show the protocol once in frame.protocols, as tshark does.
      const shown = n > 0 && this.protocolCount > 0 && this.names[this.protocolCount - 1] === d.name
      if (!this.layerOnce(d, buf, from, to, reported)) return
      if (shown) this.protocolCount--
      const need = ctx.need
      const pdu = ctx.pdu
      if (need !== 0 && !(need === -1 && fin)) {
        this.dropLayer(d, !shown)
        const copy = Buffer.from(buf.subarray(from, to))
        this.pending.set(flow, {
          reg: d, chunks: [copy], length: copy.length,
          need: need === -1 ? -1 : copy.length + need,
          nextSeq: (seq + len) >>> 0,
          lost: false,
        })
        return
      }
      if (ctx.nextTable !== undefined) {
        // The PDU's dissector hands on (to a media type): follow it within the PDU.
        const pduEnd = pdu >= 0 ? from + pdu : to
        ctx.end = ctx.reportedEnd = pduEnd
        this.run(buf, ctx.nextTable, ctx.nextKey, ctx.nextAlt, ctx.nextAt)
        ctx.end = to
        ctx.reportedEnd = reported
      }
      if (pdu < 0 || pdu >= to - from) return
      from += pdu
      const next = this.find(buf, table, key, alt, from)
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

  /** TableSource.hasNext, for LayerContext.hasNext(). */
  hasNext(t: DissectorTable, key: number | string, altKey: number | string | undefined): boolean {
    if (this.usable(t.get(key)) || (altKey !== undefined && this.usable(t.get(altKey)))) return true
    for (const h of t.heuristics) if (this.usable(h)) return true
    return false
  }

  private dataLayer(at: number): void {
    this.pushProtocol('data')
    const layer = this.store.openLayer('data', at, Math.max(0, this.ctx.end - at))
    layer.endOcc = this.store.count
  }
}
