/**
 * Dissector preferences (tshark's `-o name.pref:value`): the values a run uses, from the
 * definition's defaults, the configuration's `preferences` and the command line, checked
 * against each preference's type before any packet is read.
 */
import type { NetkitConfig } from '../config.js'
import { InvalidArgumentError } from '../errors.js'
import type { DissectorDefinition, PreferenceSpec, PreferenceValues } from './api.js'

/** Settings by dissector name, then preference name, as the configuration and -o give them. */
export type PreferenceSettings = Record<string, Record<string, unknown>>

/** Splits `-o nkp.port:7000` into dissector, preference and the value's text. */
export function parsePreferenceFlag(text: string): { dissector: string; name: string; value: string } {
  const m = /^([A-Za-z][\w.-]*)\.([A-Za-z_][\w-]*):(.*)$/s.exec(text)
  if (!m) throw new InvalidArgumentError(`-o ${text}: expected DISSECTOR.PREFERENCE:VALUE, e.g. -o nkp.port:7000`)
  return { dissector: m[1], name: m[2], value: m[3] }
}

/** The settings of a list of -o flags (later ones win). */
export function preferenceFlags(flags: readonly string[] | undefined): PreferenceSettings {
  const out: PreferenceSettings = {}
  for (const f of flags ?? []) {
    const { dissector, name, value } = parsePreferenceFlag(f)
    ;(out[dissector] ??= {})[name] = value
  }
  return out
}

/** `value` as preference `spec` takes it (from JSON or from -o text); throws naming `where`. */
function convert(spec: PreferenceSpec, value: unknown, where: string): number | boolean | string {
  const bad = (): never => { throw new InvalidArgumentError(`${where}: '${String(value)}' is not a valid ${spec.type}`) }
  switch (spec.type) {
    case 'string':
      return typeof value === 'string' ? value : bad()
    case 'bool':
      if (typeof value === 'boolean') return value
      if (typeof value === 'string' && /^(true|false|1|0)$/i.test(value)) return /^(true|1)$/i.test(value)
      return bad()
    default: {
      let parsed = typeof value === 'number' ? value : NaN
      const m = typeof value === 'string' ? /^(-?)(0x[0-9a-f]+|\d+)$/i.exec(value.trim()) : null
      if (m) parsed = (m[1] === '-' ? -1 : 1) * Number(m[2])
      if (!Number.isSafeInteger(parsed) || (spec.type === 'uint' && parsed < 0)) return bad()
      return parsed
    }
  }
}

/** The values of `def`'s preferences for this run: its defaults, overridden by `settings`. */
export function preferenceValues(def: DissectorDefinition, settings: Record<string, unknown> | undefined): PreferenceValues {
  const specs = def.preferences ?? {}
  const out: Record<string, number | boolean | string> = {}
  for (const [name, spec] of Object.entries(specs)) out[name] = spec.default
  for (const [name, value] of Object.entries(settings ?? {})) {
    if (!Object.hasOwn(specs, name)) {
      const known = Object.keys(specs)
      throw new InvalidArgumentError(`preference ${def.name}.${name}: ${def.name} has ${known.length > 0 ? `no preference '${name}' (it has: ${known.join(', ')})` : 'no preferences'}`)
    }
    out[name] = convert(specs[name], value, `preference ${def.name}.${name}`)
  }
  return Object.freeze(out)
}

/**
 * The configuration with a command line's -d rules and -o settings added: the rules after the
 * configuration's `decodeAs`, the settings over its `preferences` (the command line wins).
 */
export function withDissectionFlags(config: NetkitConfig, flags: { 'decode-as'?: string[]; preference?: string[] }): NetkitConfig {
  const preferences: PreferenceSettings = {}
  for (const [name, values] of Object.entries(config.preferences ?? {})) preferences[name] = { ...values }
  for (const [name, values] of Object.entries(preferenceFlags(flags.preference))) preferences[name] = { ...preferences[name], ...values }
  return { ...config, preferences, decodeAs: [...(config.decodeAs ?? []), ...(flags['decode-as'] ?? [])] }
}
