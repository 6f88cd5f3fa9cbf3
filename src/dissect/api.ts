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

/** Where a segment's payload sits in a byte stream: what ctx.nextStream() takes. */
export interface StreamPosition {
  /** The key to try when `key` finds nothing (TCP tries the lower port, then the higher). */
  altKey?: number | string
  /** The stream and direction: stream index * 2, plus 1 for the second endpoint's direction. */
  flow: number
  /** Sequence number of the payload's first byte. */
  seq: number
  /** Whether the sender closes the stream with this segment. */
  fin?: boolean
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
   * True when the run records nothing but the summary line (`-T text` without a display filter):
   * no field and no list of layers. The summary line is tcpdump's, and tcpdump decodes each
   * segment of a byte stream on its own, so a transport then hands each payload up with next()
   * rather than reassembling it for nextStream() (as plugins/tcp does).
   */
  readonly summaryOnly: boolean
  /**
   * Reads an unsigned big-endian number of `size` bytes (1, 2, 3 or 4) at `at` and records it as
   * `field`; for address, string and byte fields records those bytes. Returns the number (0 for
   * non-numeric fields). Throws (as truncation) if the bytes were not captured.
   */
  add(field: number, at: number, size: number): number
  /** Records a computed number (a length in bytes, a flag bit) as `field`. */
  set(field: number, value: number): void
  /** Records `data[at, at + length)` as `field`: bytes that are not the packet's (a reassembled datagram). */
  setBytes(field: number, data: Buffer, at: number, length: number): void
  /** Records text as `field` (allocates: for values that are not bytes of the packet). */
  setText(field: number, value: string): void
  /** Whether anything will print `field` (skip costly work for fields nobody asked for). */
  wants(field: number): boolean
  /**
   * Continue with the next layer: found in `table` under `key` (then `altKey`), starting at `at`.
   * `handoff` is a number the next layer reads as `ctx.handoff` (Wireshark's `data` argument:
   * GRE passes its flags, from which ERSPAN tells type I from type II).
   */
  next(table: string, key: number | string, at: number, altKey?: number | string, handoff?: number): void
  /** What the layer below passed with next() (0 when it passed nothing). */
  readonly handoff: number
  /**
   * Like next(), but the layers above read `data[at, data.length)` instead of the packet: bytes
   * this layer put together (an IP datagram reassembled from fragments). Their byte fields point
   * into `data`; call setAddresses() with offsets in `data` first when the layers above need them.
   */
  nextBytes(table: string, key: number | string, data: Buffer, at: number): void
  /**
   * Whether next(table, key, …, altKey) would find a dissector (registered under either key, or
   * a heuristic on the table). Lets a transport skip stream bookkeeping nobody above will use.
   */
  hasNext(table: string, key: number | string, altKey?: number | string): boolean
  /**
   * Like next(), for the payload of a byte stream (TCP): `stream.flow` names the stream and
   * direction (stream * 2 + 0 or 1), `stream.seq` the payload's sequence number, `stream.fin`
   * whether the sender closes, `stream.altKey` the key to try second. The dissector reached can
   * then ask for more bytes (needMore) and get its whole PDU. `stream` is read at once, so one
   * object may be refilled for every packet.
   */
  nextStream(table: string, key: number | string, at: number, stream: StreamPosition): void
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
  /**
   * Starts the summary line with tcpdump's `IP 10.0.0.1.5000 > 10.0.0.2.80` (`IP6` for IPv6)
   * from the network addresses and these ports, and returns it for the rest (`.text(': UDP')`).
   */
  endpointsLine(sport: number, dport: number): InfoLine
  /**
   * Like infoLine(true), but from where a layer below called the line's mark() (dropping what it
   * wrote after it): "IP a.1 > b.4789" + ": VXLAN, ..." instead of ": UDP, length 58".
   */
  infoFromMark(): InfoLine
  /**
   * Keeps the summary line written so far in front of what the layers above write (a tunnel:
   * tcpdump prints "...: VXLAN, flags [I] (0x08), vni 42" and then the inner packet's line).
   */
  infoPrefix(): void
  /** The summary line is complete: the layers above neither change it nor add damage marks to it. */
  infoDone(): void
  /** Transport ports for the layers above (Wireshark's pinfo srcport/destport); a transport sets them. */
  setPorts(srcPort: number, dstPort: number): void
  /** The ports a transport set for this packet, -1 when none did. */
  readonly srcPort: number
  readonly dstPort: number
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

/** A setting of a dissector that users change (tshark's preferences): its type and default. */
export interface PreferenceSpec {
  type: 'uint' | 'int' | 'bool' | 'string'
  default: number | boolean | string
  /** One line on what it does, shown by `netkit dissectors NAME`. */
  description?: string
}

/** Preference values by name, as a dissector's register() and dissect() receive them. */
export type PreferenceValues = Readonly<Record<string, number | boolean | string>>

/** A dissector's definition. */
export interface DissectorDefinition<F extends Record<string, FieldSpec> = Record<string, FieldSpec>> {
  /** Protocol name as frame.protocols and display filters show it (`ip`, `tcp`, `http`). */
  name: string
  /** Human name (`Internet Protocol Version 4`). */
  title?: string
  /** Fields, by a local key; the dissect function receives their ids under the same keys. */
  fields: F
  /**
   * Where it is reached from: table entries, or a function of the preferences that returns them
   * (`(prefs) => [{ table: Table.UDP_PORT, key: prefs.port }]`). Left out, it is reached only
   * through Decode-As (`-d udp.port==N,NAME`) or a heuristic.
   */
  register?: TableEntry[] | ((prefs: PreferenceValues) => TableEntry[])
  /**
   * Settings users can change in the configuration (`preferences: { NAME: { port: 7000 } }`) or
   * with `-o NAME.port:7000`: `{ port: { type: 'uint', default: 9999 } }`.
   */
  preferences?: Record<string, PreferenceSpec>
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
  /** Decodes the layer; `prefs` holds the preferences' values for this run. */
  dissect(view: ByteView, ctx: DissectContext, fields: { readonly [K in keyof F]: number }, prefs: PreferenceValues): void
  /**
   * Optional: writes this layer's fallback summary line (with ctx.infoLine()/info()), the line
   * `-T text` shows when no layer above writes one of its own (Ethernet's "a > b, ethertype
   * 0x0800, length N" for a frame nothing above decodes). netkit calls it after the packet, and
   * only when it shows: once the dissect() of this layer returned without marking it truncated
   * or malformed, for the topmost such layer, unless a layer above replaced the line. A layer
   * above that appends to the line (infoLine(true)) gets this line written first. The view is
   * this layer's again; values read in dissect() are read again here (they are cheap to read;
   * most packets never need the line).
   */
  summary?(view: ByteView, ctx: DissectContext, fields: { readonly [K in keyof F]: number }): void
}

/** Field types whose values are numbers (the ones `bitmask` and `values` apply to). */
const NUMERIC_TYPES = new Set(['uint', 'int', 'bool'])

/** Checks and returns a dissector definition (the default export of a plugin module). */
export function defineDissector<F extends Record<string, FieldSpec>>(def: DissectorDefinition<F>): DissectorDefinition<F> {
  if (!def || typeof def !== 'object') throw new TypeError('defineDissector(definition): definition must be an object')
  if (typeof def.name !== 'string' || !/^[a-z][a-z0-9_.-]*$/i.test(def.name)) throw new TypeError(`defineDissector: invalid name '${String(def.name)}'`)
  if (typeof def.dissect !== 'function') throw new TypeError(`defineDissector(${def.name}): dissect must be a function`)
  if (!def.fields || typeof def.fields !== 'object') throw new TypeError(`defineDissector(${def.name}): fields must be an object`)
  const types = new Set(['uint', 'int', 'bool', 'double', 'string', 'bytes', 'ipv4', 'ipv6', 'ether', 'none'])
  for (const [key, f] of Object.entries(def.fields)) {
    if (!f || typeof f.name !== 'string' || !types.has(f.type)) throw new TypeError(`defineDissector(${def.name}): field '${key}' needs a name and a type (${[...types].join(', ')})`)
    if (f.bitmask !== undefined && (!NUMERIC_TYPES.has(f.type) || !Number.isInteger(f.bitmask) || f.bitmask <= 0 || f.bitmask > 0xffffffff)) {
      throw new TypeError(`defineDissector(${def.name}): field '${key}': bitmask is a non-zero 32-bit number on a uint, int or bool field`)
    }
    if (f.values !== undefined && (!NUMERIC_TYPES.has(f.type) || typeof f.values !== 'object' || Object.values(f.values).some((v) => typeof v !== 'string'))) {
      throw new TypeError(`defineDissector(${def.name}): field '${key}': values maps numbers to names ({ 1: 'hello' }) on a uint, int or bool field`)
    }
  }
  for (const [key, p] of Object.entries(def.preferences ?? {})) {
    const ok = p && (p.type === 'string' ? typeof p.default === 'string' : p.type === 'bool' ? typeof p.default === 'boolean' : (p.type === 'uint' || p.type === 'int') && Number.isInteger(p.default))
    if (!ok) throw new TypeError(`defineDissector(${def.name}): preference '${key}' needs a type (uint, int, bool, string) and a default of that type`)
  }
  if (def.handsOn !== undefined && (!Array.isArray(def.handsOn) || def.handsOn.some((t) => typeof t !== 'string'))) {
    throw new TypeError(`defineDissector(${def.name}): handsOn is a list of table names`)
  }
  if (def.register !== undefined && typeof def.register !== 'function') checkEntries(def.name, def.register)
  if (def.heuristic && typeof def.recognize !== 'function') throw new TypeError(`defineDissector(${def.name}): a heuristic needs recognize(view)`)
  if (def.summary !== undefined && typeof def.summary !== 'function') throw new TypeError(`defineDissector(${def.name}): summary must be a function`)
  return def
}

/** Throws unless `entries` is a list of `{ table, key }`. */
export function checkEntries(name: string, entries: unknown): asserts entries is TableEntry[] {
  const ok = Array.isArray(entries) && entries.every((e) => e && typeof e.table === 'string' && (typeof e.key === 'number' || typeof e.key === 'string'))
  if (!ok) throw new TypeError(`defineDissector(${name}): register entries are { table, key }`)
}
