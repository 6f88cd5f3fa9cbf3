/**
 * DissectedPacket: what dissection yields for one packet, and all that its consumers (formatters,
 * the display filter, stream commands, library users) read: the frame, its layers, its fields
 * with every occurrence, and the summary line. It is a reused view: a Dissector hands out the
 * same object for every packet, and its contents are valid until the next packet is dissected.
 * Copy what must outlive that (`packet.get()` and `packet.all()` return fresh values).
 */
import { formatBytes, type FieldSpec } from './field-types.js'
import type { InfoLine } from './info-line.js'
import type { LayerRecord, PacketFields } from './packet-fields.js'
import type { DissectorRegistry } from './registry.js'

/** One decoded layer: its protocol, its bytes in the packet and whether it decoded whole. */
export interface PacketLayer {
  readonly name: string
  /** Offset and captured length of the layer in `DissectedPacket.data`. */
  readonly start: number
  readonly length: number
  readonly status: 'ok' | 'truncated' | 'malformed'
  /** Why a malformed layer is malformed. */
  readonly reason?: string
  /** Its fields' occurrences are firstOcc .. endOcc - 1 of `DissectedPacket.occurrences`. */
  readonly firstOcc: number
  readonly endOcc: number
}

/**
 * A field value as `get()`/`all()` return it: numbers for integer fields, booleans for flags,
 * text for addresses and strings (as tshark prints them), a Buffer copy for byte fields, `true`
 * for a protocol (a field that only says the layer is there).
 */
export type FieldValue = number | boolean | string | Buffer

/**
 * The occurrence table of a packet, read-only: occurrence k is of field `field[k]`; it holds
 * the number `num[k]` when `off[k]` is -1 and `text[k]` is undefined, the text `text[k]`, or
 * the bytes `buf[k][off[k], off[k] + len[k])`. `next[k]` chains the occurrences of one field
 * in order (-1 ends the chain); `firstOf(id)` starts it. Low level: for hot paths.
 */
export type FieldOccurrences = Pick<PacketFields, 'field' | 'num' | 'off' | 'len' | 'text' | 'buf' | 'next' | 'count' | 'firstOf'>

/** The dissection of one packet (a reused view: valid until the next packet). */
export class DissectedPacket {
  /** Frame number (1-based), link type, timestamp, lengths. */
  number = 0
  linkType = 0
  sec = 0
  nsec = 0
  capLen = 0
  origLen = 0
  /** The buffer holding the packet's bytes, and where they start in it. */
  data: Buffer = Buffer.alloc(0)
  offset = 0
  /** Whether a layer wrote a summary line (see infoText()). */
  hasInfo = false
  /** Layers decoded, in order; the first `layerCount` of `layerList` (reused records). */
  layerCount = 0
  /**
   * The layers the summary line stands for: all, or up to the one that finished it (infoDone),
   * as an ICMP error's line does for the datagram it quotes. Only their damage shows on the line
   * (tcpdump marks `[|proto]` where its printer stopped, and prints nothing past a finished line).
   */
  lineLayers = 0
  /** Protocol names of frame.protocols (layers and table labels such as `ethertype`): the first protocolCount. */
  protocolCount = 0

  constructor(
    /** The registry whose field ids the occurrences use. */
    readonly registry: DissectorRegistry,
    /** The occurrence table (see FieldOccurrences). */
    readonly occurrences: FieldOccurrences,
    private readonly layerList: readonly LayerRecord[],
    private readonly protocolNames: readonly string[],
    /** The summary line: info.buf[infoStart, info.pos) when hasInfo. */
    readonly info: InfoLine,
  ) {}

  /** Where the summary line starts in `info.buf`. */
  infoStart = 0

  /** Layer i (0 ≤ i < layerCount), without copying. */
  layer(i: number): PacketLayer {
    return this.layerList[i]
  }

  /** The layers, copied out (allocates: for library users, not hot paths). */
  get layers(): PacketLayer[] {
    const out: PacketLayer[] = []
    for (let i = 0; i < this.layerCount; i++) {
      const l = this.layerList[i]
      out.push({ ...l })
    }
    return out
  }

  /** frame.protocols (`eth:ethertype:ip:tcp`). */
  protocolsText(): string {
    const p = this.protocolNames
    let s = ''
    for (let i = 0; i < this.protocolCount; i++) s += i === 0 ? p[i] : ':' + p[i]
    return s
  }

  /** The summary line as text ('' when no layer wrote one). */
  infoText(): string {
    return this.hasInfo ? this.info.buf.toString('utf8', this.infoStart, this.info.pos) : ''
  }

  /** The id of the field named `name` (Wireshark's name), or -1 when no dissector has it. */
  fieldId(name: string): number {
    return this.registry.fieldByName.get(name) ?? -1
  }

  /**
   * Which layer occurrence k belongs to, counted per protocol from 1 (Wireshark's `ip.addr#2`:
   * the second `ip` layer); 1 for fields outside any layer (frame.*).
   */
  layerNumber(k: number): number {
    const list = this.layerList
    let l = -1
    for (let i = 0; i < this.layerCount; i++) {
      if (list[i].firstOcc <= k && k < list[i].endOcc) { l = i; break }
    }
    if (l < 0) return 1
    let n = 1
    const name = list[l].name
    for (let i = 0; i < l; i++) if (list[i].name === name) n++
    return n
  }

  /**
   * The length of the protocol whose occurrence is k: its layer's own bytes (a header, when the
   * layer handed the rest on), or the frame's captured length for `frame`.
   */
  protocolLength(k: number): number {
    const list = this.layerList
    const name = this.registry.fields[this.occurrences.field[k]].name
    // The protocol's occurrence is the first its layer records (layers that recorded nothing
    // wanted start at the same index, hence the name).
    for (let i = 0; i < this.layerCount; i++) if (list[i].firstOcc === k && list[i].name === name) return list[i].length
    return this.occurrences.len[k]
  }

  /** Whether the packet has field or protocol `name` (`tcp`, `http.request`, `ip.src`). */
  has(name: string): boolean {
    const id = this.fieldId(name)
    return id >= 0 && this.occurrences.firstOf(id) !== -1
  }

  /** The first value of field `name`, or undefined when the packet has none. */
  get(name: string): FieldValue | undefined {
    const id = this.fieldId(name)
    const k = id < 0 ? -1 : this.occurrences.firstOf(id)
    return k === -1 ? undefined : this.valueAt(k)
  }

  /** Every value of field `name`, in the order the dissectors recorded them. */
  all(name: string): FieldValue[] {
    const id = this.fieldId(name)
    const out: FieldValue[] = []
    if (id < 0) return out
    const o = this.occurrences
    for (let k = o.firstOf(id); k !== -1; k = o.next[k]) out.push(this.valueAt(k))
    return out
  }

  /** Occurrence k as a FieldValue (see the type for the mapping). */
  valueAt(k: number): FieldValue {
    const o = this.occurrences
    const spec: FieldSpec = this.registry.fields[o.field[k]]
    const text = o.text[k]
    if (text !== undefined) return text
    const off = o.off[k]
    if (off < 0) return spec.type === 'bool' ? o.num[k] !== 0 : o.num[k]
    const buf = o.buf[k] ?? this.data
    if (spec.type === 'none') return true
    if (spec.type === 'bytes') return Buffer.from(buf.subarray(off, off + o.len[k]))
    if (spec.type === 'uint' || spec.type === 'int' || spec.type === 'bool') return o.num[k]
    return formatBytes(spec, buf, off, o.len[k])
  }
}
