/**
 * NdjsonLine: one `-T ndjson` object per packet, written as bytes into an InfoLine: the same
 * text JSON.stringify gives for `{"frame": {...}, "eth": {"eth.dst": ..., ...}, ...}` (numbers
 * as numbers, 0x-hex fields as strings, a field that occurs more than once in a layer as an
 * array where it first occurs), without building the objects and strings per packet.
 * With `ek`, the same walk writes tshark's `-T ek` (Elasticsearch/OpenSearch bulk format): an
 * index line `{"index":{"_index":"packets-YYYY-MM-DD","_type":"doc"}}`, then the document
 * `{"timestamp":"<ms>","layers":{"frame":{"frame_frame_number":"1",...},"ip":{"ip_ip_src":...}}}`
 * with keys `<layer>_<field, dots made underscores>`, values as strings, booleans as true/false.
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { FieldSpec } from '../dissect/field-types.js'
import type { InfoLine } from '../dissect/info-line.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { RecordKind, type RecordBatch } from '../pcap/record-batch.js'
import { putFieldValue } from './field-bytes.js'
import { frameFieldWriters, MAX_FRAME_FIELD_BYTES, type FieldByteWriter } from './frame-fields.js'

const HEX = '0123456789abcdef'
const epochWriter = frameFieldWriters['frame.time_epoch']
const interfaceWriter = frameFieldWriters['frame.interface_id']

/** Appends `s` as a JSON string (JSON.stringify's escapes). */
export function putJsonString(line: InfoLine, s: string): void {
  line.char(0x22)
  let from = 0
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i)
    let esc: string | undefined
    if (c === 0x22) esc = '\\"'
    else if (c === 0x5c) esc = '\\\\'
    else if (c < 0x20) esc = c === 8 ? '\\b' : c === 9 ? '\\t' : c === 10 ? '\\n' : c === 12 ? '\\f' : c === 13 ? '\\r' : '\\u00' + HEX[c >> 4] + HEX[c & 15]
    else if (c >= 0xd800 && c <= 0xdfff) {
      // A surrogate pair stays as it is; a lone surrogate is escaped (well-formed JSON.stringify).
      if (c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        i++
        continue
      }
      esc = '\\u' + c.toString(16)
    }
    if (esc === undefined) continue
    if (i > from) line.text(s.slice(from, i))
    line.text(esc)
    from = i + 1
  }
  if (from === 0) line.text(s)
  else if (from < s.length) line.text(s.slice(from))
  line.char(0x22)
}

/** Appends bytes data[from, to) taken as Latin-1 text, as a JSON string. */
function putJsonLatin1(line: InfoLine, data: Uint8Array, from: number, to: number): void {
  let plain = true
  for (let i = from; i < to; i++) {
    const b = data[i]
    if (b < 0x20 || b === 0x22 || b === 0x5c) { plain = false; break }
  }
  if (!plain) return putJsonString(line, Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('latin1', from, to))
  line.char(0x22).latin1(data, from, to).char(0x22)
}

/** The -T ek key of a field: its protocol, an underscore, and its name with dots as underscores (`ip_ip_src`). */
export function ekKey(name: string): string {
  const dot = name.indexOf('.')
  return `${dot < 0 ? name : name.slice(0, dot)}_${name.replace(/\./g, '_')}`
}

/** Writes ndjson lines for the engine's current packet. */
export class NdjsonLine {
  /** `"name":` for each field id, JSON-escaped once. */
  private readonly keys: string[]
  /** Per field id: the stamp of the layer that wrote it (a repeat in that layer is in its array). */
  private readonly written: Uint32Array
  private stamp = 0
  /** How many times each layer name was seen in the current packet (`ip`, then `ip#2`). */
  private readonly seen = new Map<string, number>()

  constructor(private readonly registry: DissectorRegistry, private readonly ek = false) {
    this.keys = registry.fields.map((f) => JSON.stringify(ek ? ekKey(f.name) : f.name) + ':')
    this.written = new Uint32Array(registry.fields.length)
  }

  /** Writes record i's line (with its newline) into `line`. */
  write(line: InfoLine, batch: RecordBatch, i: number, packet: DissectedPacket | undefined): void {
    const ek = this.ek
    // ek: numbers as strings; q closes and opens the quotes around them.
    const q = ek ? '"' : ''
    if (ek) {
      const sec = batch.tsSec[i]
      const ms = Number.isNaN(sec) ? 0 : sec * 1000 + Math.floor(batch.tsNsec[i] / 1e6)
      line.text('{"index":{"_index":"packets-').text(new Date(ms).toISOString().slice(0, 10)).text('","_type":"doc"}}\n')
      line.text('{"timestamp":"').dec(ms).text('","layers":{"frame":{"frame_frame_number":"')
    } else line.text('{"frame":{"number":')
    line.dec(batch.firstNumber + i).text(q).text(ek ? ',"frame_frame_time_epoch":' : ',"time_epoch":')
    line.text(q)
    this.frameField(line, epochWriter, batch, i, 'null')
    line.text(q).text(ek ? ',"frame_frame_len":"' : ',"len":').dec(batch.origLen[i])
    line.text(q).text(ek ? ',"frame_frame_cap_len":"' : ',"cap_len":').dec(batch.capLen[i]).text(q)
    const at = line.pos
    line.text(ek ? ',"frame_frame_interface_id":"' : ',"interface_id":')
    const before = line.pos
    this.frameField(line, interfaceWriter, batch, i, '')
    if (line.pos === before) line.pos = at
    else line.text(q)
    const end = ek ? '}}}\n' : '}}\n'
    if (!packet || batch.kind[i] !== RecordKind.packet) {
      line.text(end)
      return
    }
    line.text(ek ? ',"frame_frame_protocols":' : ',"protocols":')
    putJsonString(line, packet.protocolsText())
    line.char(0x7d)
    const store = packet.occurrences
    const fields = this.registry.fields
    const seen = this.seen
    seen.clear()
    for (let l = 0; l < packet.layerCount; l++) {
      const layer = packet.layer(l)
      const n = seen.get(layer.name) ?? 0
      seen.set(layer.name, n + 1)
      line.char(0x2c)
      putJsonString(line, n === 0 ? layer.name : `${layer.name}#${n + 1}`)
      line.text(':{')
      const stamp = this.nextStamp()
      let first = true
      for (let k = layer.firstOcc; k < layer.endOcc; k++) {
        const id = store.field[k]
        const spec = fields[id]
        if (spec.type === 'none' || this.written[id] === stamp) continue
        this.written[id] = stamp
        if (!first) line.char(0x2c)
        first = false
        line.text(this.keys[id])
        let j = store.next[k]
        if (j === -1 || j >= layer.endOcc) {
          this.value(line, spec, store, k, batch.data)
          continue
        }
        line.char(0x5b)
        this.value(line, spec, store, k, batch.data)
        for (; j !== -1 && j < layer.endOcc; j = store.next[j]) {
          line.char(0x2c)
          this.value(line, spec, store, j, batch.data)
        }
        line.char(0x5d)
      }
      if (layer.status !== 'ok') {
        line.text(first ? '"_status":' : ',"_status":')
        putJsonString(line, layer.status)
        first = false
      }
      if (layer.reason) {
        line.text(first ? '"_reason":' : ',"_reason":')
        putJsonString(line, layer.reason)
      }
      line.char(0x7d)
    }
    line.text(ek ? '}}\n' : '}\n')
  }

  /** A new layer stamp; on wrapping round the marks start over, so no old one can match. */
  private nextStamp(): number {
    this.stamp = (this.stamp + 1) >>> 0
    if (this.stamp === 0) {
      this.written.fill(0)
      this.stamp = 1
    }
    return this.stamp
  }

  /** A frame field's value as its byte writer prints it, or `absent` when it prints nothing. */
  private frameField(line: InfoLine, write: FieldByteWriter, batch: RecordBatch, i: number, absent: string): void {
    const start = line.pos
    line.pos = write(line.room(MAX_FRAME_FIELD_BYTES), start, batch, i)
    if (line.pos === start) line.text(absent)
  }

  /** One occurrence's value: text and byte fields as strings, numbers as numbers (0x-hex ones as strings). */
  private value(line: InfoLine, spec: FieldSpec, store: DissectedPacket['occurrences'], k: number, data: Buffer): void {
    const text = store.text[k]
    if (text !== undefined) return putJsonString(line, text)
    const off = store.off[k]
    if (off >= 0 && spec.type === 'string') return putJsonLatin1(line, store.buf[k] ?? data, off, off + store.len[k])
    if (off >= 0 || (spec.hexDigits !== undefined && spec.type !== 'bool')) {
      // Addresses, hex bytes and 0x numbers print as -T fields prints them, and need no escapes.
      line.char(0x22)
      putFieldValue(line, spec, store, k, data)
      line.char(0x22)
      return
    }
    const v = store.num[k]
    if (this.ek) {
      // tshark's ek: booleans as JSON booleans, every other value as a string.
      if (spec.type === 'bool') line.text(v ? 'true' : 'false')
      else if (Number.isFinite(v)) line.char(0x22).dec(v).char(0x22)
      else line.text('null')
      return
    }
    if (Number.isFinite(v)) line.dec(v)
    else line.text('null')
  }
}
