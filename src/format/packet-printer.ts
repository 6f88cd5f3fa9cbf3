/**
 * PacketPrinter: prints dissected packets in the `-T` formats: `text` (one tcpdump -n style line),
 * `verbose` (a field tree like tshark -V), `fields` (exactly as tshark -T fields), `ndjson`
 * (one JSON object per packet, numbers as numbers). Only what the output needs is decoded: a
 * fields list of frame.* alone runs no dissector, and only the asked-for fields are recorded.
 */
import { InvalidArgumentError } from '../errors.js'
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { DissectionNeeds } from '../dissect/engine.js'
import { bitPattern, formatBytes, formatNumber, type FieldSpec } from '../dissect/field-types.js'
import { InfoLine, putUint } from '../dissect/info-line.js'
import { DissectorRegistry } from '../dissect/registry.js'
import { linkHeaderLength } from '../pcap/link-types.js'
import { RecordKind, type RecordBatch } from '../pcap/record-batch.js'
import { putFieldValue } from './field-bytes.js'
import { NdjsonLine } from './ndjson-line.js'
import { formatEpoch, formatTimeOfDay, frameFields, frameFieldWriters, MAX_FRAME_FIELD_BYTES, putTimeOfDay, type FieldByteWriter } from './frame-fields.js'
import { hexDump } from './hex.js'
import { BYTE_SLACK, copyBytes, type TextOutput } from './output.js'

/** Output formats of `-T`. */
export const OUTPUT_FORMATS = ['text', 'verbose', 'fields', 'ndjson', 'ek'] as const
/** One of OUTPUT_FORMATS. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** Options for a PacketPrinter. */
export interface PrintOptions {
  format: OutputFormat
  /** `-e` field names, for `fields`. */
  fields?: string[]
  /** `-x`: hex of each packet after it (link header omitted, as tcpdump -x). */
  hex?: boolean
  /** Nanosecond time of day in `text`. */
  nano?: boolean
}

/** How one `-e` column is produced. */
type Column = { frame: FieldByteWriter } | { protocols: true } | { id: number; spec: FieldSpec }

/** Whether a field list needs any dissector (frame.* fields alone do not). */
export function needsDissection(options: PrintOptions): boolean {
  if (options.format !== 'fields') return true
  return (options.fields ?? []).some((f) => !(f in frameFields))
}

/**
 * Prints packets: the DissectedPacket of each (from an engine made for `needs`), or, when
 * `needs` is undefined (frame fields only), the records themselves.
 */
export class PacketPrinter {
  /** What the printer needs from dissection; undefined when it prints the records alone. */
  readonly needs: DissectionNeeds | undefined
  private readonly columns: Column[] = []
  /** Set when every `-e` column is a frame field: lines are written as bytes, no strings made. */
  private readonly byteColumns: FieldByteWriter[] | undefined
  /** The `-T fields` or `-T ndjson` line being made (bytes, copied into the output). */
  private readonly line = new InfoLine()
  private readonly ndjson: NdjsonLine | undefined

  constructor(private readonly out: TextOutput, private readonly options: PrintOptions, private readonly registry?: DissectorRegistry) {
    const names = options.fields ?? []
    if (options.format === 'fields' && names.length === 0) {
      throw new InvalidArgumentError('-T fields needs at least one -e FIELD (e.g. -e frame.number -e ip.src)')
    }
    if (options.format !== 'fields' && names.length > 0) throw new InvalidArgumentError('-e FIELD works with -T fields only')
    const wanted: number[] = []
    for (const name of names) {
      if (name in frameFieldWriters) { this.columns.push({ frame: frameFieldWriters[name] }); continue }
      if (name === 'frame.protocols') { this.columns.push({ protocols: true }); continue }
      const id = registry?.fieldByName.get(name)
      if (id === undefined) throw new InvalidArgumentError(`unknown field '${name}' (netkit dissectors lists every field)`)
      this.columns.push({ id, spec: registry!.fields[id] })
      wanted.push(id)
    }
    if (options.format === 'fields' && !options.hex && names.every((n) => n in frameFieldWriters) && names.length * (MAX_FRAME_FIELD_BYTES + 1) < BYTE_SLACK) {
      this.byteColumns = names.map((n) => frameFieldWriters[n])
    }
    if (options.format === 'ndjson' || options.format === 'ek') this.ndjson = new NdjsonLine(registry ?? new DissectorRegistry(), options.format === 'ek')
    if (registry && needsDissection(options)) {
      this.needs = {
        fields: wanted,
        allFields: options.format === 'verbose' || options.format === 'ndjson' || options.format === 'ek',
        info: options.format === 'text',
        allLayers: this.columns.some((c) => 'protocols' in c),
      }
    }
  }

  /**
   * Prints record i of `batch`; `packet` is its dissection (undefined when `needs` is, or the
   * record is not a packet).
   */
  print(batch: RecordBatch, i: number, packet: DissectedPacket | undefined): void {
    const out = this.out
    const { format, hex } = this.options
    switch (format) {
      case 'fields': this.fieldsLine(batch, i, packet); break
      case 'ndjson': case 'ek':
        this.line.pos = 0
        this.ndjson!.write(this.line, batch, i, packet)
        out.writeBytes(this.line.buf, 0, this.line.pos)
        break
      case 'verbose': out.write(this.verbose(batch, i, packet)); break
      default: this.textLine(batch, i, packet)
    }
    if (hex) {
      const off = batch.offset[i]
      const skip = batch.kind[i] === RecordKind.packet ? Math.min(linkHeaderLength(batch.linkType[i]), batch.capLen[i]) : 0
      out.write(hexDump(batch.data, off + skip, off + batch.capLen[i]))
    }
  }

  /**
   * Prints the records of `batch` whose select[i] is non-zero (all when `select` is absent),
   * when the printer needs no dissection (`needs` undefined).
   */
  printRecords(batch: RecordBatch, select?: Uint8Array): void {
    if (this.byteColumns !== undefined) {
      this.writeFrameFields(batch, this.byteColumns, select)
      return
    }
    for (let i = 0; i < batch.count; i++) if (select === undefined || select[i] !== 0) this.print(batch, i, undefined)
  }

  /** `-T fields` of frame fields only: each line's values go into the output's byte chunk. */
  private writeFrameFields(batch: RecordBatch, columns: FieldByteWriter[], select?: Uint8Array): void {
    const out = this.out
    let buf = out.byteChunk()
    for (let i = 0; i < batch.count; i++) {
      if (select !== undefined && select[i] === 0) continue
      let p = columns[0](buf, out.bytePos, batch, i)
      for (let c = 1; c < columns.length; c++) {
        buf[p++] = 0x09
        p = columns[c](buf, p, batch, i)
      }
      buf[p++] = 0x0a
      buf = out.commitBytes(p)
    }
  }

  private valueText(store: DissectedPacket['occurrences'], k: number, data: Buffer): string {
    const spec = this.registry!.fields[store.field[k]]
    const text = store.text[k]
    if (text !== undefined) return text
    if (store.off[k] >= 0) return spec.type === 'none' ? '' : formatBytes(spec, store.buf[k] ?? data, store.off[k], store.len[k])
    return formatNumber(spec, store.num[k])
  }

  /**
   * A field as tshark's tree shows it: `Label: value`, with a value's name first (`Type: hello
   * (1)`) and a bitmask field's bits before it (`0100 .... = Version: 4`).
   */
  private treeLine(spec: FieldSpec, store: DissectedPacket['occurrences'], k: number, data: Buffer): string {
    let value = this.valueText(store, k, data)
    const numeric = store.text[k] === undefined && store.off[k] < 0
    // Booleans show the name alone, other numbers the name and the number (as tshark's tree).
    if (numeric && spec.values !== undefined && Object.hasOwn(spec.values, store.num[k])) value = spec.type === 'bool' ? spec.values[store.num[k]] : `${spec.values[store.num[k]]} (${value})`
    const line = `${spec.label ?? spec.name}: ${value}`
    return numeric && spec.bitmask !== undefined ? `${bitPattern(spec.bitmask, store.num[k])} = ${line}` : line
  }

  /** One `-T fields` line: made as bytes in `line`, then copied into the output. */
  private fieldsLine(batch: RecordBatch, i: number, packet: DissectedPacket | undefined): void {
    const line = this.line
    line.pos = 0
    for (let c = 0; c < this.columns.length; c++) {
      const col = this.columns[c]
      if (c > 0) line.char(0x09)
      // Frame fields are short: room for the longest, then written in place.
      if ('frame' in col) line.pos = col.frame(line.room(MAX_FRAME_FIELD_BYTES), line.pos, batch, i)
      else if ('protocols' in col) {
        if (packet) line.text(packet.protocolsText())
      } else if (packet) this.putValues(packet, col.id, col.spec, batch.data)
    }
    line.char(0x0a)
    this.out.writeBytes(line.buf, 0, line.pos)
  }

  /** Every occurrence of field `id` in the current packet, joined by ',' (tshark's default). */
  private putValues(packet: DissectedPacket, id: number, spec: FieldSpec, data: Buffer): void {
    const store = packet.occurrences
    let k = store.firstOf(id)
    if (k === -1) return
    putFieldValue(this.line, spec, store, k, data)
    for (k = store.next[k]; k !== -1; k = store.next[k]) {
      this.line.char(0x2c)
      putFieldValue(this.line, spec, store, k, data)
    }
  }

  /** One `-T text` line: the time of day, the summary the dissectors wrote, damage markers. */
  private textLine(batch: RecordBatch, i: number, packet: DissectedPacket | undefined): void {
    const out = this.out
    if (packet === undefined || packet.info.pos - packet.infoStart > BYTE_SLACK - 64) {
      out.write(this.textLineString(batch, i, packet))
      return
    }
    const buf = out.byteChunk()
    let p = putTimeOfDay(buf, out.bytePos, batch.tsSec[i], batch.tsNsec[i], this.options.nano)
    buf[p++] = 0x20
    if (packet.hasInfo) {
      p = copyBytes(buf, p, packet.info.buf, packet.infoStart, packet.info.pos)
    } else {
      p += buf.write('length ', p, 'latin1')
      p = putUint(buf, p, batch.origLen[i])
    }
    let marks = ''
    for (let l = 0; l < packet.lineLayers; l++) if (packet.layer(l).status !== 'ok') marks += damageText(packet.layer(l))
    if (marks !== '') {
      if ((p - out.bytePos) + marks.length * 3 + 1 > BYTE_SLACK) {
        out.commitBytes(p)
        out.write(marks + '\n')
        return
      }
      p += buf.write(marks, p, 'utf8')
    }
    buf[p++] = 0x0a
    out.commitBytes(p)
  }

  /** textLine as a string (records that are not packets, and very long lines). */
  private textLineString(batch: RecordBatch, i: number, packet: DissectedPacket | undefined): string {
    const t = formatTimeOfDay(batch.tsSec[i], batch.tsNsec[i], this.options.nano)
    if (batch.kind[i] !== RecordKind.packet) return `${t} pcapng custom block, length ${batch.capLen[i]}\n`
    let line = packet && packet.hasInfo ? packet.infoText() : `length ${batch.origLen[i]}`
    if (packet) for (let l = 0; l < packet.lineLayers; l++) line += damageText(packet.layer(l))
    return `${t} ${line}\n`
  }

  private verbose(batch: RecordBatch, i: number, packet: DissectedPacket | undefined): string {
    const len = batch.origLen[i]
    const cap = batch.capLen[i]
    let s = `Frame ${batch.firstNumber + i}: ${len} bytes on wire (${len * 8} bits), ${cap} bytes captured (${cap * 8} bits)\n`
    const epoch = formatEpoch(batch.tsSec[i], batch.tsNsec[i])
    if (epoch) s += `    Epoch Time: ${epoch} seconds\n`
    const iface = frameFields['frame.interface_id'](batch, i)
    if (iface !== '') s += `    Interface id: ${iface}\n`
    s += `    Frame Number: ${batch.firstNumber + i}\n    Frame Length: ${len} bytes\n    Capture Length: ${cap} bytes\n`
    if (!packet || batch.kind[i] !== RecordKind.packet) return s + '\n'
    s += `    [Protocols in frame: ${packet.protocolsText()}]\n`
    const store = packet.occurrences
    for (let l = 0; l < packet.layerCount; l++) {
      const layer = packet.layer(l)
      const reg = this.registry!.dissectors.find((d) => d.def.name === layer.name)
      s += `${reg?.def.title ?? layer.name}${layer.name === 'data' ? ` (${layer.length} bytes)` : ''}\n`
      for (let k = layer.firstOcc; k < layer.endOcc; k++) {
        const spec = this.registry!.fields[store.field[k]]
        if (spec.type === 'none') continue
        s += `    ${this.treeLine(spec, store, k, batch.data)}\n`
      }
      if (layer.status === 'truncated') s += `    [Packet size limited during capture: ${layer.name} truncated]\n`
      if (layer.status === 'malformed') s += `[Malformed Packet: ${layer.name}${layer.reason ? `: ${layer.reason}` : ''}]\n`
    }
    return s + '\n'
  }
}

/** The marker a damaged layer adds to its text line (` [|tcp]`, ` [Malformed Packet: ...]`), or ''. */
function damageText(layer: { name: string; status: string; reason?: string }): string {
  if (layer.status === 'truncated') return ` [|${layer.name}]`
  if (layer.status === 'malformed') return ` [Malformed Packet: ${layer.name}${layer.reason ? `: ${layer.reason}` : ''}]`
  return ''
}
