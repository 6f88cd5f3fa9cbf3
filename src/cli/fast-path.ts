/**
 * bin/run.js's fast path: `netkit read` started without loading oclif, whose import and
 * configuration take most of a small read's start-up. It runs a command line only when it reads
 * it exactly as oclif's parser would: flags that oclif.manifest.json (written from the commands'
 * own definitions at build time) declares, as `-c VALUE`, `--name VALUE`, `--name=VALUE` or a
 * boolean `-x`/`--name`, and positional words. Anything else (help, --, an unknown or repeated
 * flag, a missing or invalid value, a value starting with '-', DEBUG set) returns false, and
 * bin/run.js hands the line to oclif, which parses it, reports errors and prints help as it
 * always has. test/cli/fast-path.test.ts checks the parse against oclif's on many lines.
 */
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** A flag as oclif.manifest.json describes it. */
interface ManifestFlag {
  name: string
  char?: string
  type: 'option' | 'boolean'
  multiple?: boolean
  options?: string[]
  default?: unknown
  required?: boolean
  aliases?: string[]
  charAliases?: string[]
}

/** What a flag's definition says that the manifest does not (Flags.integer's min, multipleNonGreedy). */
export interface FlagTraits {
  /** Flags.integer({ min }): the value must be digits, at least min. */
  integerMin?: Record<string, number>
  /** multiple flags declared multipleNonGreedy (one value each; later words are arguments). */
  nonGreedy?: ReadonlySet<string>
}

/** The commands the fast path runs, with what it must know of their flags (see common-flags.ts). */
export const FAST_COMMANDS: Record<string, FlagTraits> = {
  read: { integerMin: { count: 1 }, nonGreedy: new Set(['field']) },
}

/** A command line as oclif's parse() reads it: the flags, and the positional words in order. */
export interface FastParse {
  flags: Record<string, unknown>
  args: string[]
}

/**
 * Parses `argv` (after the command name) against a command's manifest flags; undefined when the
 * line is not one the fast path is sure to read as oclif does.
 */
export function parseFast(argv: readonly string[], defs: Record<string, ManifestFlag>, traits: FlagTraits): FastParse | undefined {
  const byChar = new Map<string, ManifestFlag>()
  for (const f of Object.values(defs)) {
    if ((f.aliases?.length ?? 0) > 0 || (f.charAliases?.length ?? 0) > 0) return undefined
    if (f.char !== undefined) byChar.set(f.char, f)
  }
  const flags: Record<string, unknown> = {}
  const args: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i]
    if (!token.startsWith('-') || token === '-') {
      args.push(token)
      continue
    }
    let flag: ManifestFlag | undefined
    let inline: string | undefined
    if (token.startsWith('--')) {
      const eq = token.indexOf('=')
      const name = eq < 0 ? token.slice(2) : token.slice(2, eq)
      if (eq >= 0) inline = token.slice(eq + 1)
      flag = Object.hasOwn(defs, name) ? defs[name] : undefined
    } else if (token.length === 2) {
      flag = byChar.get(token[1])
    }
    if (flag === undefined) return undefined
    if (flag.type === 'boolean') {
      if (inline !== undefined) return undefined
      flags[flag.name] = true
      continue
    }
    const value = inline ?? argv[++i]
    if (value === undefined || value === '' || (value.startsWith('-') && value !== '-')) return undefined
    if (flag.options !== undefined && !flag.options.includes(value)) return undefined
    let parsed: unknown = value
    const min = traits.integerMin?.[flag.name]
    if (min !== undefined) {
      if (!/^\d+$/.test(value) || Number(value) < min) return undefined
      parsed = Number(value)
    }
    if (flag.multiple) {
      if (!traits.nonGreedy?.has(flag.name)) return undefined
      ;((flags[flag.name] ??= []) as unknown[]).push(parsed)
    } else {
      if (Object.hasOwn(flags, flag.name)) return undefined
      flags[flag.name] = parsed
    }
  }
  for (const f of Object.values(defs)) {
    if (Object.hasOwn(flags, f.name)) continue
    if (f.required) return undefined
    if (f.default !== undefined) flags[f.name] = f.default
  }
  return { flags, args }
}

const manifestPath = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'oclif.manifest.json')

/**
 * Runs `argv` (process.argv.slice(2)) on the fast path when it can; false when oclif must.
 * Errors the run ends with are reported as oclif's run of the command reports them.
 */
export async function runFast(argv: readonly string[]): Promise<boolean> {
  const id = argv[0]
  if (id === undefined || !Object.hasOwn(FAST_COMMANDS, id) || process.env.DEBUG) return false
  let defs: Record<string, ManifestFlag> | undefined
  try {
    defs = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { commands?: Record<string, { flags?: Record<string, ManifestFlag> }> }).commands?.[id]?.flags
  } catch {
    return false // no manifest (an install without one): oclif finds the commands itself
  }
  if (defs === undefined) return false
  const line = parseFast(argv.slice(1), defs, FAST_COMMANDS[id])
  if (line === undefined) return false
  const { reportCommandError } = await import('./fatal.js')
  try {
    const { runRead } = await import('./read-command.js')
    await runRead(line.flags as unknown as Parameters<typeof runRead>[0], line.args.join(' ').trim())
  } catch (err) {
    reportCommandError(id, err as Error)
  }
  // As oclif's flush(): wait until what was written to stdout is handed over.
  if (!process.stdout.write('')) await new Promise((resolve) => process.stdout.once('drain', resolve))
  return true
}
