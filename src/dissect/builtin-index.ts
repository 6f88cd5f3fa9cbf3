/**
 * The index of the shipped dissectors (dist/builtin-dissectors.json, written at build time by
 * scripts/write-dissector-index.js): for each folder of plugins/, what its definitions declare
 * (name, title, fields, table entries under the default preferences, heuristics, hand-offs,
 * preferences) and a digest of its files. With it a run registers every shipped dissector
 * without importing its code, and a plugin's code is loaded the first time a packet reaches
 * one of its dissectors (or heuristics): synchronously, by require() of the ES module (Node
 * >= 20.19), since dissection is synchronous. Registration happens in the same order with the
 * same declarations, so field ids, table entries, `-e`/`-Y` checks and output are those of
 * importing the plugins. A folder whose files differ from the digest, a definition the index
 * cannot hold exactly (anything but plain data and the dissect/summary/recognize functions),
 * and a run that sets a plugin's preferences use the plugin's own module, imported up front.
 */
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import { isDeepStrictEqual } from 'node:util'
import { PluginError } from '../errors.js'
import type { DissectorDefinition, PreferenceValues, TableEntry } from './api.js'
import { loadFailure } from './plugin-source.js'
import { preferenceValues } from './preferences.js'
import type { RegisteredDissector } from './registry.js'

/** Shipped plugins, in load order (link layers first). */
export const BUILTIN = ['ethernet', 'sll', 'raw-ip', 'ppp', 'arp', 'mpls', 'ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp', 'http', 'openflow', 'llc', 'stp', 'gre', 'erspan', 'vxlan', 'geneve', 'cmd', 'dns', 'dhcp', 'tls']

/** The index file, relative to the package root. */
const INDEX_FILE = join('dist', 'builtin-dissectors.json')
/** Bumped when the index's layout changes: an index of another layout is not used. */
const INDEX_VERSION = 1

/** A definition's declarations, as the index holds them (plain data). */
interface DefinitionRecord {
  name: string
  title?: string
  description?: string
  fields: DissectorDefinition['fields']
  /** The table entries under the default preferences (register() called with them). */
  register: TableEntry[]
  preferences?: DissectorDefinition['preferences']
  handsOn?: string[]
  heuristic?: string[]
  /** Whether the definition has a summary() / a recognize(). */
  summary: boolean
  recognize: boolean
}

/** One plugin folder in the index. */
interface PluginRecord {
  /** Each file under the folder, by relative path: "size:mtimeMs:fnv1a". */
  files: Record<string, string>
  definitions: DefinitionRecord[]
}

/** The index as written. */
interface BuiltinIndex {
  version: number
  plugins: Record<string, PluginRecord>
}

/** Keys a definition may have for the index to stand for it. */
const DATA_KEYS = new Set(['name', 'title', 'description', 'fields', 'register', 'preferences', 'handsOn', 'heuristic'])
const CODE_KEYS = new Set(['dissect', 'summary', 'recognize'])

/** The record of `def`, or undefined when the index cannot hold it exactly. */
function describe(def: unknown): DefinitionRecord | undefined {
  if (def === null || typeof def !== 'object') return undefined
  const d = def as DissectorDefinition
  for (const [key, value] of Object.entries(d)) {
    if (CODE_KEYS.has(key) ? typeof value !== 'function' && value !== undefined : !DATA_KEYS.has(key)) return undefined
  }
  if (typeof d.dissect !== 'function') return undefined
  const prefs: PreferenceValues = preferenceValues(d, undefined)
  const record: DefinitionRecord = {
    name: d.name,
    title: d.title,
    description: (d as { description?: string }).description,
    fields: d.fields,
    register: typeof d.register === 'function' ? d.register(prefs) : d.register ?? [],
    preferences: d.preferences,
    handsOn: d.handsOn,
    heuristic: d.heuristic,
    summary: typeof d.summary === 'function',
    recognize: typeof d.recognize === 'function',
  }
  for (const key of Object.keys(record) as Array<keyof DefinitionRecord>) if (record[key] === undefined) delete record[key]
  // Exactly what JSON gives back, or not indexed (a value JSON changes: undefined, NaN, -0, ...).
  return isDeepStrictEqual(JSON.parse(JSON.stringify(record)), record) ? record : undefined
}

/** 32-bit FNV-1a of `b`. */
function fnv1a(b: Buffer): number {
  let h = 0x811c9dc5
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193)
  return h >>> 0
}

/** The files under `dir` (a change to any file a plugin may import must show), by relative path. */
function filesUnder(dir: string, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) filesUnder(path, `${prefix}${entry.name}/`, out)
    else if (entry.isFile()) out.set(prefix + entry.name, path)
  }
  return out
}

/** A file's digest: "size:mtimeMs:fnv1a of its bytes". */
function fileDigest(path: string): string {
  const bytes = readFileSync(path)
  return `${bytes.length}:${statSync(path).mtimeMs}:${fnv1a(bytes).toString(16)}`
}

/**
 * Whether the files under `dir` are those `recorded` describes: the same names, and each of the
 * same size and modification time or, when the time differs (a package unpacked by npm gets
 * times of its own), the same bytes.
 */
function unchanged(dir: string, recorded: Record<string, string>): boolean {
  const files = filesUnder(dir)
  if (files.size !== Object.keys(recorded).length) return false
  for (const [rel, path] of files) {
    const want = Object.hasOwn(recorded, rel) ? recorded[rel].split(':') : undefined
    if (want === undefined) return false
    const st = statSync(path)
    if (st.size !== Number(want[0])) return false
    if (st.mtimeMs !== Number(want[1]) && fnv1a(readFileSync(path)).toString(16) !== want[2]) return false
  }
  return true
}

/**
 * Writes the index of the plugins in `packageRoot`/plugins (the build's last step). A plugin
 * that cannot be required, or whose definitions the index cannot hold, is left out: it is
 * imported up front as before.
 */
export function writeBuiltinIndex(packageRoot: string): { indexed: string[]; left: string[] } {
  const requireModule = createRequire(import.meta.url)
  const index: BuiltinIndex = { version: INDEX_VERSION, plugins: {} }
  const indexed: string[] = []
  const left: string[] = []
  for (const name of BUILTIN) {
    const dir = join(packageRoot, 'plugins', name)
    let defs: unknown[]
    try {
      const mod = requireModule(join(dir, 'index.js')) as { default?: unknown }
      defs = Array.isArray(mod.default) ? mod.default : [mod.default]
    } catch {
      left.push(name)
      continue
    }
    const definitions = defs.map(describe)
    if (definitions.some((d) => d === undefined)) {
      left.push(name)
      continue
    }
    const files = Object.fromEntries([...filesUnder(dir)].map(([rel, path]) => [rel, fileDigest(path)]))
    index.plugins[name] = { files, definitions: definitions as DefinitionRecord[] }
    indexed.push(name)
  }
  writeFileSync(join(packageRoot, INDEX_FILE), JSON.stringify(index) + '\n')
  return { indexed, left }
}

/** A plugin's definitions standing in for its module, and how to tie them to their registrations. */
export interface StandIns {
  defs: DissectorDefinition[]
  /** Records the registration of a stand-in (registry.register's result). */
  bind(reg: RegisteredDissector): void
}

/**
 * The index's stand-ins for plugin folder `name` (entry `file`), or undefined when the index has
 * no current record of it (no index, an older layout, no require(esm), or files changed since).
 */
export function standIns(packageRoot: string, name: string, file: string, index = readIndex(packageRoot)): StandIns | undefined {
  const record = index?.plugins[name]
  if (record === undefined) return undefined
  try {
    if (!unchanged(join(packageRoot, 'plugins', name), record.files)) return undefined
  } catch {
    return undefined
  }
  const regs = new Map<string, RegisteredDissector>()
  let loaded = false
  let failure: PluginError | undefined
  /**
   * Imports the plugin and puts its definitions in place of the stand-ins. A plugin that fails
   * to load fails every layer it is asked to decode, with the same error (its layers show as
   * malformed, the layers below survive).
   */
  const load = (): void => {
    if (failure !== undefined) throw failure
    if (loaded) return
    loaded = true
    try {
      const mod = createRequire(import.meta.url)(file) as { default?: unknown }
      const real = (Array.isArray(mod.default) ? mod.default : [mod.default]) as DissectorDefinition[]
      for (const [defName, reg] of regs) {
        const def = real.find((d) => d?.name === defName)
        if (def === undefined) throw new PluginError(`plugin ${file} no longer defines '${defName}' (npm run build writes the index again)`)
        reg.def = def
        reg.dissect = def.dissect
      }
    } catch (err) {
      failure = err instanceof PluginError ? err : new PluginError(loadFailure(file, err), { cause: err })
      throw failure
    }
  }
  const defs = record.definitions.map((r): DissectorDefinition => {
    const reg = (): RegisteredDissector => regs.get(r.name)!
    const { summary, recognize, ...data } = r
    const def: DissectorDefinition = {
      ...data,
      dissect(view, ctx, ids, prefs) {
        load()
        const g = reg()
        return g.dissect.call(g.def, view, ctx, ids, prefs)
      },
    }
    if (summary) def.summary = (view, ctx, ids) => { load(); const g = reg(); return g.def.summary!.call(g.def, view, ctx, ids) }
    if (recognize) def.recognize = (view) => { load(); return reg().def.recognize!(view) }
    return def
  })
  return { defs, bind: (reg) => { regs.set(reg.name, reg) } }
}

/** The index of `packageRoot`, or undefined when it cannot be used. */
export function readIndex(packageRoot: string): BuiltinIndex | undefined {
  if ((process.features as { require_module?: boolean }).require_module !== true) return undefined
  try {
    const index = JSON.parse(readFileSync(join(packageRoot, INDEX_FILE), 'utf8')) as BuiltinIndex
    return index.version === INDEX_VERSION ? index : undefined
  } catch {
    return undefined
  }
}
