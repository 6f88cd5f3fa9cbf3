/**
 * Decode-As (tshark's `-d TABLE==SELECTOR,DISSECTOR`): puts a dissector in a table under keys it
 * did not register for, such as a port its protocol does not use by default. Parsed and checked
 * against the loaded dissectors before any packet is read.
 */
import { InvalidArgumentError } from '../errors.js'
import type { DissectorRegistry } from './registry.js'

/** One Decode-As rule: `keys` of `table` go to `dissector`. */
export interface DecodeAsRule {
  table: string
  keys: Array<number | string>
  dissector: string
}

/** The most keys one rule may name (a 16-bit port range is the largest that makes sense). */
const MAX_KEYS = 65536

function key(text: string): number | string {
  return /^(0x[0-9a-f]+|\d+)$/i.test(text) ? Number(text) : text
}

/**
 * Parses `tcp.port==8888,http`, `udp.port==41234,dns`, `tcp.port==8000-8010,http` (a range of
 * numbers) or `tcp.port==8000:3,http` (three keys from 8000), as tshark's -d reads them.
 */
export function parseDecodeAs(text: string): DecodeAsRule {
  const m = /^\s*([A-Za-z][\w.-]*)\s*==\s*([^,]+?)\s*,\s*([A-Za-z][\w.-]*)\s*$/.exec(text)
  if (!m) throw new InvalidArgumentError(`-d ${text}: expected TABLE==SELECTOR,DISSECTOR, e.g. -d tcp.port==8888,http`)
  const [, table, selector, dissector] = m
  const range = /^(\d+)\s*([-:])\s*(\d+)$/.exec(selector)
  if (!range) return { table, keys: [key(selector)], dissector }
  const from = Number(range[1])
  const to = range[2] === '-' ? Number(range[3]) : from + Number(range[3]) - 1
  if (to < from || to - from + 1 > MAX_KEYS) throw new InvalidArgumentError(`-d ${text}: the range ${selector} is empty or longer than ${MAX_KEYS} keys`)
  return { table, keys: Array.from({ length: to - from + 1 }, (_, i) => from + i), dissector }
}

/** Applies rules (texts in tshark's syntax) to the registry; throws a usage error naming what exists. */
export function applyDecodeAs(registry: DissectorRegistry, rules: readonly string[]): void {
  for (const text of rules) {
    const rule = parseDecodeAs(text)
    const tables = registry.knownTables()
    if (!tables.includes(rule.table)) {
      throw new InvalidArgumentError(`-d ${text}: no dissector table '${rule.table}' (tables: ${tables.sort().join(', ')})`)
    }
    const d = registry.dissectors.find((r) => r.name === rule.dissector)
    if (d === undefined) {
      throw new InvalidArgumentError(`-d ${text}: no dissector '${rule.dissector}' (dissectors: ${registry.dissectors.map((r) => r.name).sort().join(', ')})`)
    }
    const t = registry.table(rule.table)
    for (const k of rule.keys) t.set(k, d)
  }
}
