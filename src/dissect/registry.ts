/**
 * DissectorRegistry: the dissectors of one run, their fields (numbered once, at registration),
 * the dissector tables and the heuristics. One per run, never global: two runs (or tests) can
 * load different plugins side by side.
 */
import { PluginError } from '../errors.js'
import type { DissectorDefinition } from './api.js'
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
}

/** Tables whose dispatch shows in frame.protocols as a layer of its own (as tshark shows them). */
const TABLE_LABELS: Record<string, string> = { ethertype: 'ethertype' }

/** The registry of one run. */
export class DissectorRegistry {
  /** All fields, by id. */
  readonly fields: FieldSpec[] = []
  /** Field id by Wireshark name. */
  readonly fieldByName = new Map<string, number>()
  /** Id of the protocol's own field (`ip`, `tcp`): set when the layer is present. */
  readonly protocolField = new Map<string, number>()
  readonly dissectors: RegisteredDissector[] = []
  private readonly tables = new Map<string, Map<number | string, RegisteredDissector>>()
  private readonly heuristics = new Map<string, RegisteredDissector[]>()

  /** Registers a dissector; throws PluginError on a duplicate name, field or table entry. */
  register(def: DissectorDefinition, source = 'builtin'): RegisteredDissector {
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
    for (const e of def.register ?? []) {
      const owner = this.tables.get(e.table)?.get(e.key)
      if (owner) throw new PluginError(`${source}: ${e.table} ${String(e.key)} is already taken by '${owner.def.name}'`)
    }
    const ids: Record<string, number> = {}
    const protoId = this.addField({ name: def.name, type: 'none', label: def.title ?? def.name })
    this.protocolField.set(def.name, protoId)
    for (const [key, spec] of Object.entries(def.fields)) ids[key] = this.addField(spec)
    const reg: RegisteredDissector = { def, ids, source, protoId }
    this.dissectors.push(reg)
    for (const e of def.register ?? []) {
      let t = this.tables.get(e.table)
      if (!t) this.tables.set(e.table, (t = new Map()))
      t.set(e.key, reg)
    }
    for (const table of def.heuristic ?? []) {
      let list = this.heuristics.get(table)
      if (!list) this.heuristics.set(table, (list = []))
      list.push(reg)
    }
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

  /** The dissector in `table` under `key`. */
  lookup(table: string, key: number | string): RegisteredDissector | undefined {
    return this.tables.get(table)?.get(key)
  }

  /** Heuristic dissectors tried on `table`'s payload when no key matched. */
  heuristicsFor(table: string): RegisteredDissector[] | undefined {
    return this.heuristics.get(table)
  }

  /** The layer label a table dispatch adds to frame.protocols (`ethertype`), if any. */
  tableLabel(table: string): string | undefined {
    return TABLE_LABELS[table]
  }

  /** Tables and their entries, for `netkit dissectors`. */
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
      const candidates = [...(this.tables.get(table)?.values() ?? []), ...(this.heuristics.get(table) ?? [])]
      if (candidates.some((c) => this.leadsTo(c, wanted, seen))) return true
    }
    return false
  }

  tableEntries(): Array<{ table: string; key: number | string; dissector: string }> {
    const out: Array<{ table: string; key: number | string; dissector: string }> = []
    for (const [table, m] of this.tables) for (const [key, d] of m) out.push({ table, key, dissector: d.def.name })
    for (const [table, list] of this.heuristics) for (const d of list) out.push({ table, key: 'heuristic', dissector: d.def.name })
    return out
  }
}
