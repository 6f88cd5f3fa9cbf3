/**
 * `netkit dissectors --check PATH`: validates a plugin without a capture. It loads the plugin
 * beside the shipped dissectors and reports, each with what to do about it: a load failure (with
 * the file and line), field names that are not Wireshark-style (`PROTO.name`, lower case) or are
 * taken, entries in tables nothing hands on to, and a dissect function that throws on an empty,
 * short or arbitrary view (reading past the end is fine: the view marks the layer truncated).
 */
import { randomBytes } from 'node:crypto'
import { resolve } from 'node:path'
import { LinkType } from '../pcap/link-types.js'
import { TRUNCATED } from './byte-view.js'
import type { DissectorDefinition } from './api.js'
import { validateConfig } from '../config.js'
import { loadDissectors } from './plugin-loader.js'
import { pluginFile } from './plugin-source.js'
import { dissect } from './read-packets.js'
import type { DissectorRegistry } from './registry.js'

/** What the check found. */
export interface PluginCheck {
  /** The plugin's file, and the dissectors it defines. */
  file: string
  dissectors: string[]
  /** One line per problem; empty when the plugin passed. */
  problems: string[]
}

/** Byte counts of the views each dissect function is run on. */
const VIEW_SIZES = [0, 1, 2, 3, 4, 7, 8, 12, 16, 20, 40, 64, 256]
/** Wireshark's field names: the protocol's name, then dot-separated lower-case words. */
const FIELD_NAME = /^[a-z0-9][a-z0-9_-]*(\.[a-z0-9_][a-z0-9_-]*)*$/

/** Checks the plugin at `path` (a file, a package folder or a package name from `cwd`). */
export async function checkPlugin(path: string, cwd = process.cwd()): Promise<PluginCheck> {
  const file = pluginFile(path.startsWith('.') || path.startsWith('/') ? resolve(cwd, path) : path, cwd)
  const shipped = (await loadDissectors(validateConfig({ plugins: [] }))).registry
  // A shipped plugin is checked as it is loaded already; any other is loaded beside them.
  const builtin = shipped.dissectors.some((d) => d.source === file)
  const { registry, errors } = builtin ? { registry: shipped, errors: [] } : await loadDissectors(validateConfig({ plugins: [file] }))
  const mine = registry.dissectors.filter((d) => d.source === file)
  const problems = errors.map((e) => e.message)
  for (const d of mine) problems.push(...definitionProblems(d.def, shipped, registry), ...await dissectProblems(d.def.name, file, registry))
  return { file, dissectors: mine.map((d) => d.def.name), problems }
}

/** Names and tables. */
function definitionProblems(def: DissectorDefinition, shipped: DissectorRegistry, registry: DissectorRegistry): string[] {
  const out: string[] = []
  const seen = new Map<string, string>()
  for (const [key, spec] of Object.entries(def.fields)) {
    if (seen.has(spec.name)) out.push(`${def.name}: fields '${seen.get(spec.name)}' and '${key}' are both named ${spec.name}: give each its own name`)
    seen.set(spec.name, key)
    if (!FIELD_NAME.test(spec.name) || !(spec.name === def.name || spec.name.startsWith(`${def.name}.`))) {
      out.push(`${def.name}: field '${key}' is named '${spec.name}': Wireshark-style names are the protocol's name, a dot and lower-case words (${def.name}.${key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)})`)
    }
    const id = shipped.fieldByName.get(spec.name)
    const owner = id === undefined ? undefined : shipped.dissectors.find((d) => d.name !== def.name && Object.values(d.ids).includes(id))
    if (owner !== undefined) out.push(`${def.name}: field ${spec.name} is already defined by the shipped dissector ${owner.name}: pick a name under ${def.name}.`)
  }
  const mine = registry.dissectors.find((d) => d.def === def)
  const known = new Set(shipped.knownTables())
  for (const e of [...(mine?.entries ?? []), ...(def.heuristic ?? []).map((table) => ({ table, key: 'heuristic' }))]) {
    if (!known.has(e.table)) out.push(`${def.name}: registers in table '${e.table}', which no dissector hands on to (tables: ${[...known].sort().join(', ')})`)
  }
  return out
}

/** Runs the dissect function on empty, short, zero, 0xff and random views, as the only layer. */
async function dissectProblems(name: string, file: string, registry: DissectorRegistry): Promise<string[]> {
  const reg = registry.dissectors.find((d) => d.def.name === name)!
  const original = reg.dissect
  let thrown: { err: unknown; what: string } | undefined
  let what = ''
  reg.dissect = function (this: DissectorDefinition, ...args) {
    try {
      return original.apply(this, args)
    } catch (err) {
      if (err !== TRUNCATED && thrown === undefined) thrown = { err, what }
      throw err
    }
  }
  // The dissector is put at the start of the packet: a record of link type USER0 is all its.
  const link = registry.table('link')
  const before = link.get(LinkType.USER0)
  link.set(LinkType.USER0, reg)
  try {
    const fills: Array<[string, (n: number) => Buffer]> = [['zero', (n) => Buffer.alloc(n)], ['0xff', (n) => Buffer.alloc(n, 0xff)], ['random', (n) => randomBytes(n)]]
    for (const size of VIEW_SIZES) {
      for (const [fill, make] of fills) {
        what = size === 0 ? 'an empty view' : `a ${size}-byte view of ${fill} bytes`
        await dissect(make(size), { registry, linkType: LinkType.USER0 })
        if (thrown) break
      }
      if (thrown) break
    }
  } finally {
    reg.dissect = original
    if (before) link.set(LinkType.USER0, before)
  }
  if (!thrown) return []
  const err = thrown.err
  const at = err instanceof Error ? new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:(\\d+)`).exec(err.stack ?? '') : null
  const msg = err instanceof Error ? `${err.name}: ${err.message}` : String(err)
  return [`${name}: dissect throws ${msg}${at ? ` at ${file}:${at[1]}` : ''} on ${thrown.what}: read through the view (view.u8/u16/..., ctx.add), which marks a short layer truncated, and call ctx.malformed(reason) for bad values instead of throwing`]
}

/** The check's text: one line per problem, or one line saying it passed. */
export function formatCheck(c: PluginCheck): string {
  if (c.problems.length === 0) return `${c.file}: ok (${c.dissectors.join(', ') || 'no dissectors'})\n`
  return c.problems.map((p) => `${c.file}: ${p}\n`).join('')
}
