/**
 * DissectorRegistry: the dissectors of one run, their fields (numbered once, at registration),
 * the dissector tables and the heuristics. One per run, never global: two runs (or tests) can
 * load different plugins side by side.
 */
import { PluginError } from '../errors.js'
import { checkEntries, type DissectorDefinition, type PreferenceValues, type TableEntry } from './api.js'
import { Table } from './constants.js'
import type { FieldSpec } from './field-types.js'

/** A registered dissector. */
export interface RegisteredDissector {
  def: DissectorDefinition
  /** Field ids by the definition's local keys. */
  ids: Record<string, number>
  /** Where it came from (plugin path or `builtin`). */
  source: string
  /** Id of the protocol's own field (`tcp`), recorded for every layer it decodes. */
  protoId: number
  /** Position in the registry's list (engines keep per-dissector facts in arrays by it). */
  index: number
  /**
   * def.name and def.dissect, kept here too: every definition object has a shape of its own,
   * so reading them through `def` in the engine's per-layer path is a megamorphic load.
   */
  name: string
  dissect: DissectorDefinition['dissect']
  /** The preferences' values in this run (the definition's defaults unless set). */
  prefs: PreferenceValues
  /** The table entries it registered (a register() function's result, with these prefs). */
  entries: TableEntry[]
}

/** Tables whose dispatch shows in frame.protocols as a layer of its own (as tshark shows them). */
const TABLE_LABELS: Record<string, string> = { ethertype: 'ethertype' }

/**
 * Tables that take any `ethertype` entry for a key none of their own has: tunnels keyed by
 * EtherType (GRE's protocol type, Geneve's) reach IPv4, IPv6, ARP, MPLS ... without showing
 * the `ethertype` layer, as tshark shows them (gre:ip, geneve:eth).
 */
const TABLE_FALLBACKS: Record<string, string> = { 'gre.proto': 'ethertype' }

/** The index of a table with no integer keys yet: all zero, never written (a table copies it on its first key). */
const NO_SMALL_KEYS = new Uint16Array(0x10000)

/** Whether a table key goes in DissectorTable's array: an integer 0..65535. */
function isSmallKey(key: number | string): key is number {
  return typeof key === 'number' && key >= 0 && key <= 0xffff && (key | 0) === key
}

/**
 * One dissector table (`ethertype`, `tcp.port`, ...): its entries by key and its heuristics.
 * Engines hold on to these objects, so a dispatch costs one lookup by key.
 */
export class DissectorTable {
  readonly entries = new Map<number | string, RegisteredDissector>()
  readonly heuristics: RegisteredDissector[] = []
  /**
   * Entries under integer keys 0..65535 (ports, ethertypes, protocol numbers): `smallIndex[key]`
   * is the entry's place in `smallEntries`, whose place 0 is no entry. A zeroed typed array costs nothing
   * to make at start-up, where a list filled up to the highest key (65535 for ethertypes) did.
   */
  private smallIndex = NO_SMALL_KEYS
  private readonly smallEntries: Array<RegisteredDissector | undefined> = [undefined]
  /** The layer this table's dispatch adds to frame.protocols (`ethertype`), if any. */
  readonly label: string | undefined
  /** The table asked for a key this one has no entry for (see TABLE_FALLBACKS). */
  fallback: DissectorTable | undefined

  constructor(readonly name: string) {
    this.label = Object.hasOwn(TABLE_LABELS, name) ? TABLE_LABELS[name] : undefined
  }

  /** The dissector under `key`. */
  get(key: number | string): RegisteredDissector | undefined {
    const d = isSmallKey(key) ? this.smallEntries[this.smallIndex[key]] : this.entries.get(key)
    return d !== undefined || this.fallback === undefined ? d : this.fallback.get(key)
  }

  /** Puts `reg` under `key`. */
  set(key: number | string, reg: RegisteredDissector): void {
    this.entries.set(key, reg)
    if (isSmallKey(key)) {
      if (this.smallIndex === NO_SMALL_KEYS) this.smallIndex = new Uint16Array(0x10000)
      const at = this.smallIndex[key]
      if (at !== 0) this.smallEntries[at] = reg
      else {
        this.smallIndex[key] = this.smallEntries.length
        this.smallEntries.push(reg)
      }
    }
  }
}

/** Field ids of the frame pseudo-protocol. */
export interface FrameFieldIds {
  proto: number
  number: number
  timeEpoch: number
  len: number
  capLen: number
  interfaceId: number
  protocols: number
}

/** The registry of one run. */
export class DissectorRegistry {
  /** All fields, by id. */
  readonly fields: FieldSpec[] = []
  /** Field id by Wireshark name. */
  readonly fieldByName = new Map<string, number>()
  /** Id of the protocol's own field (`ip`, `tcp`): set when the layer is present. */
  readonly protocolField = new Map<string, number>()
  readonly dissectors: RegisteredDissector[] = []
  private readonly tables = new Map<string, DissectorTable>()
  /**
   * Ids of the `frame` pseudo-protocol's fields: the record itself, before any dissector (as
   * Wireshark's frame dissector). Every registry has them, so filters and `get()` can name them.
   */
  readonly frame: FrameFieldIds

  constructor() {
    const proto = this.addField({ name: 'frame', type: 'none', label: 'Frame' })
    this.protocolField.set('frame', proto)
    this.frame = {
      proto,
      number: this.addField({ name: 'frame.number', type: 'uint', label: 'Frame Number' }),
      timeEpoch: this.addField({ name: 'frame.time_epoch', type: 'double', label: 'Epoch Time' }),
      len: this.addField({ name: 'frame.len', type: 'uint', label: 'Frame Length' }),
      capLen: this.addField({ name: 'frame.cap_len', type: 'uint', label: 'Capture Length' }),
      interfaceId: this.addField({ name: 'frame.interface_id', type: 'uint', label: 'Interface id' }),
      protocols: this.addField({ name: 'frame.protocols', type: 'string', label: 'Protocols in frame' }),
    }
  }

  /**
   * Registers a dissector with its preference values (the defaults when none are given);
   * throws PluginError on a duplicate name, field or table entry.
   */
  register(def: DissectorDefinition, source = 'builtin', prefs?: PreferenceValues): RegisteredDissector {
    if (prefs === undefined) prefs = Object.freeze(Object.fromEntries(Object.entries(def.preferences ?? {}).map(([k, p]) => [k, p.default])))
    const entries = typeof def.register === 'function' ? def.register(prefs) : def.register ?? []
    checkEntries(def.name, entries)
    if (def.name === 'frame') throw new PluginError(`${source}: the name 'frame' is netkit's own (the record before any dissector)`)
    if (this.dissectors.some((d) => d.def.name === def.name)) {
      throw new PluginError(`${source}: a dissector named '${def.name}' is already loaded (from ${this.dissectors.find((d) => d.def.name === def.name)!.source})`)
    }
    for (const f of Object.values(def.fields)) {
      // A name may be shared (ipv6 sets ip.version too, as Wireshark's does) when the types agree.
      const existing = this.fieldByName.get(f.name)
      if (existing !== undefined && this.fields[existing].type !== f.type) {
        throw new PluginError(`${source}: field '${f.name}' is already defined as ${this.fields[existing].type}`)
      }
    }
    for (const e of entries) {
      const owner = this.tables.get(e.table)?.entries.get(e.key)
      if (owner) throw new PluginError(`${source}: ${e.table} ${String(e.key)} is already taken by '${owner.def.name}'`)
    }
    const protoId = this.addField({ name: def.name, type: 'none', label: def.title ?? def.name })
    this.protocolField.set(def.name, protoId)
    // Made in one go, not a key at a time: V8 keeps such an object's properties fast, and every
    // `f.seq` in a dissect function reads it (one added key by key turns into a dictionary).
    const ids: Record<string, number> = Object.fromEntries(Object.entries(def.fields).map(([key, spec]) => [key, this.addField(spec)]))
    const reg: RegisteredDissector = { def, ids, source, protoId, index: this.dissectors.length, name: def.name, dissect: def.dissect, prefs, entries }
    this.dissectors.push(reg)
    for (const e of entries) this.table(e.table).set(e.key, reg)
    for (const table of def.heuristic ?? []) this.table(table).heuristics.push(reg)
    return reg
  }

  private addField(spec: FieldSpec): number {
    const shared = this.fieldByName.get(spec.name)
    if (shared !== undefined) return shared
    const id = this.fields.length
    this.fields.push(spec)
    if (!this.fieldByName.has(spec.name)) this.fieldByName.set(spec.name, id)
    return id
  }

  /** The table named `name` (made empty on first use, so engines can hold it before plugins fill it). */
  table(name: string): DissectorTable {
    let t = this.tables.get(name)
    if (t === undefined) {
      this.tables.set(name, (t = new DissectorTable(name)))
      if (Object.hasOwn(TABLE_FALLBACKS, name)) t.fallback = this.table(TABLE_FALLBACKS[name])
    }
    return t
  }

  /**
   * The names of the tables a dissector can be put in: those netkit's dissectors hand on to,
   * those any loaded dissector registers in or declares it hands on to, and those in use.
   */
  knownTables(): string[] {
    const names = new Set<string>(Object.values(Table))
    for (const [name, t] of this.tables) if (t.entries.size > 0 || t.heuristics.length > 0) names.add(name)
    for (const d of this.dissectors) for (const t of d.def.handsOn ?? []) names.add(t)
    return [...names]
  }

  /** The dissector in `table` under `key`. */
  lookup(table: string, key: number | string): RegisteredDissector | undefined {
    return this.tables.get(table)?.entries.get(key)
  }

  /**
   * Whether running `d` can lead to a wanted field: it records one, hands on to a table where a
   * dissector can, or does not say where it hands on.
   */
  leadsTo(d: RegisteredDissector, wanted: Uint8Array, seen = new Set<string>()): boolean {
    if (wanted[d.protoId] === 1 || Object.values(d.ids).some((id) => wanted[id] === 1)) return true
    if (d.def.handsOn === undefined) return true
    for (const table of d.def.handsOn) {
      if (seen.has(table)) continue
      seen.add(table)
      const t = this.tables.get(table)
      const candidates = t === undefined ? [] : [...t.entries.values(), ...t.heuristics, ...(t.fallback?.entries.values() ?? [])]
      if (candidates.some((c) => this.leadsTo(c, wanted, seen))) return true
    }
    return false
  }

  /** Tables and their entries, for `netkit dissectors`. */
  tableEntries(): Array<{ table: string; key: number | string; dissector: string }> {
    const out: Array<{ table: string; key: number | string; dissector: string }> = []
    for (const [table, t] of this.tables) for (const [key, d] of t.entries) out.push({ table, key, dissector: d.def.name })
    for (const [table, t] of this.tables) for (const d of t.heuristics) out.push({ table, key: 'heuristic', dissector: d.def.name })
    return out
  }
}
