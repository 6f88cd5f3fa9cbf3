/**
 * The public plugin API: what a dissector module uses to describe and decode its protocol.
 * A plugin default-exports `defineDissector({...})`; netkit's shipped dissectors use nothing
 * else. See docs/plugins.md.
 */
import type { ByteView } from './byte-view.js'
import type { FieldSpec, FieldType } from './field-types.js'
import type { InfoLine } from './info-line.js'

export type { FieldSpec, FieldType }
export { ByteView } from './byte-view.js'
export { InfoLine } from './info-line.js'

/** An entry in a dissector table: `{ table: 'ethertype', key: 0x0800 }`. */
export interface TableEntry {
  table: string
  key: number | string
}

/** What a dissector reads about the packet and writes its fields through. */
export interface DissectContext {
  /** Link type (LINKTYPE_*) of the record. */
  readonly linkType: number
  /** Frame number (1-based), and timestamp. */
  readonly frame: number
  readonly sec: number
  readonly nsec: number
  /** True when the output shows per-packet summary lines (call `info` only then). */
  readonly wantsInfo: boolean
  /**
   * Reads an unsigned big-endian number of `size` bytes (1, 2, 3 or 4) at `at` and records it as
   * `field`; for address, string and byte fields records those bytes. Returns the number (0 for
   * non-numeric fields). Throws (as truncation) if the bytes were not captured.
   */
  add(field: number, at: number, size: number): number
  /** Records a computed number (a length in bytes, a flag bit) as `field`. */
  set(field: number, value: number): void
  /** Records text as `field` (allocates: for values that are not bytes of the packet). */
  setText(field: number, value: string): void
  /** Whether anything will print `field` (skip costly work for fields nobody asked for). */
  wants(field: number): boolean
  /** Continue with the next layer: found in `table` under `key` (then `altKey`), starting at `at`. */
  next(table: string, key: number | string, at: number, altKey?: number | string): void
  /**
   * Whether next(table, key, …, altKey) would find a dissector (registered under either key, or
   * a heuristic on the table). Lets a transport skip stream bookkeeping nobody above will use.
   */
  hasNext(table: string, key: number | string, altKey?: number | string): boolean
  /**
   * Like next(), for the payload of a byte stream (TCP): `flow` names the stream and direction
   * (stream * 2 + 0 or 1), `seq` the segment's sequence number, `fin` whether the sender closes.
   * The dissector reached can then ask for more bytes (needMore) and get its whole PDU.
   */
  nextStream(table: string, key: number | string, at: number, altKey: number | string | undefined, flow: number, seq: number, fin: boolean): void
  /**
   * In a dissector reached over a stream: the PDU needs `bytes` more than this view holds (or,
   * with -1, everything until the sender closes). It is run again, on the whole PDU, at the frame
   * that completes it; until then its frames show no layer of it (as tshark's "TCP segment of a
   * reassembled PDU").
   */
  needMore(bytes: number): void
  /** In a dissector reached over a stream: its PDU is `length` bytes; what follows is another PDU. */
  pduLength(length: number): void
  /** The stream flow being dissected (stream * 2 + direction), or -1 outside a stream. */
  readonly flow: number
  /**
   * Whether the layers being decoded are a packet quoted by an ICMP error (RFC 792, RFC 4443
   * section 2.4), set by inError() in the ICMP layer: transports then do no stream bookkeeping,
   * as Wireshark's in_error_pkt.
   */
  readonly quoted: boolean
  /** Marks the rest of this packet as the packet an error message quotes (see `quoted`). */
  inError(): void
  /** Limits this layer and everything after it to `length` bytes from `at` (IP total length). */
  limit(at: number, length: number): void
  /** Marks the layer malformed (like Wireshark's "[Malformed Packet]"); later layers are not decoded. */
  malformed(reason: string): void
  /**
   * Sets the packet's summary line (call only when `wantsInfo`): a layer's text replaces what
   * the layers below said (tcp's "IP a.1 > b.2: Flags [S] ..." replaces ip's), unless `append`
   * (http's ": HTTP: GET / HTTP/1.1" adds to tcp's).
   */
  info(text: string, append?: boolean): void
  /**
   * Like info(), but gives the line to write into piece by piece (`.text()`, `.dec()`,
   * `.address()`, ...): no string is made, which matters at a million packets. Call it only
   * when `wantsInfo`; with `append` the pieces go after what the layers below wrote.
   */
  infoLine(append?: boolean): InfoLine
  /** Network-layer addresses for the layers above: absolute offsets in `view.data`, 4 or 16 bytes. */
  setAddresses(srcOffset: number, dstOffset: number, length: number): void
  readonly srcOffset: number
  readonly dstOffset: number
  readonly addrLength: number
  /** The network addresses as text (dotted IPv4, RFC 5952 IPv6), '' when there are none. */
  addressText(which: 'src' | 'dst'): string
  /** State kept for the whole run (a capture file or a live capture), per key. */
  state<T>(key: string, create: () => T): T
}

/** A dissector's definition. */
export interface DissectorDefinition<F extends Record<string, FieldSpec> = Record<string, FieldSpec>> {
  /** Protocol name as frame.protocols and display filters show it (`ip`, `tcp`, `http`). */
  name: string
  /** Human name (`Internet Protocol Version 4`). */
  title?: string
  /** Fields, by a local key; the dissect function receives their ids under the same keys. */
  fields: F
  /** Where it is reached from. */
  register?: TableEntry[]
  /**
   * The tables it hands on to with next()/nextStream(), e.g. `['media_type']`, or `[]` when it
   * never does. Optional: left out, it may hand on anywhere. With it, a run that prints only
   * some fields (`-T fields`) skips layers that cannot lead to any of them.
   */
  handsOn?: string[]
  /** Tables whose payload it may claim by looking at it (a heuristic). */
  heuristic?: string[]
  /** For a heuristic: whether the payload is this protocol. */
  recognize?(view: ByteView): boolean
  /** Decodes the layer. */
  dissect(view: ByteView, ctx: DissectContext, fields: { readonly [K in keyof F]: number }): void
}

/** Checks and returns a dissector definition (the default export of a plugin module). */
export function defineDissector<F extends Record<string, FieldSpec>>(def: DissectorDefinition<F>): DissectorDefinition<F> {
  if (!def || typeof def !== 'object') throw new TypeError('defineDissector(definition): definition must be an object')
  if (typeof def.name !== 'string' || !/^[a-z][a-z0-9_.-]*$/i.test(def.name)) throw new TypeError(`defineDissector: invalid name '${String(def.name)}'`)
  if (typeof def.dissect !== 'function') throw new TypeError(`defineDissector(${def.name}): dissect must be a function`)
  if (!def.fields || typeof def.fields !== 'object') throw new TypeError(`defineDissector(${def.name}): fields must be an object`)
  const types = new Set(['uint', 'int', 'bool', 'double', 'string', 'bytes', 'ipv4', 'ipv6', 'ether', 'none'])
  for (const [key, f] of Object.entries(def.fields)) {
    if (!f || typeof f.name !== 'string' || !types.has(f.type)) throw new TypeError(`defineDissector(${def.name}): field '${key}' needs a name and a type (${[...types].join(', ')})`)
  }
  if (def.handsOn !== undefined && (!Array.isArray(def.handsOn) || def.handsOn.some((t) => typeof t !== 'string'))) {
    throw new TypeError(`defineDissector(${def.name}): handsOn is a list of table names`)
  }
  for (const e of def.register ?? []) {
    if (typeof e.table !== 'string' || (typeof e.key !== 'number' && typeof e.key !== 'string')) throw new TypeError(`defineDissector(${def.name}): register entries are { table, key }`)
  }
  if (def.heuristic && typeof def.recognize !== 'function') throw new TypeError(`defineDissector(${def.name}): a heuristic needs recognize(view)`)
  return def
}
