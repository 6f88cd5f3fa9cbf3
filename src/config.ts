/**
 * netkit's configuration: found with cosmiconfig (module name `netkit`: package.json#netkit,
 * .netkitrc[.json|.yaml|.js|.cjs|.mjs], netkit.config.{js,mjs,cjs,ts}) or named with --config,
 * then validated. Relative plugin paths are resolved against the config file's folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { ConfigError } from './errors.js'
import { isPrivileged, untrustedReason, userConfigDir } from './privilege/privilege.js'

/** A validated configuration. */
export interface NetkitConfig {
  /** Absolute path of the file it came from; undefined when none was found. */
  filepath?: string
  /** Dissector plugin modules, resolved to absolute paths (or bare package names). */
  plugins: string[]
  /** Whether to load the dissectors shipped in plugins/ (default true). */
  builtinPlugins: boolean
  /** Dissector preferences by dissector, then preference name: `{ nkp: { port: 7000 } }`. */
  preferences?: Record<string, Record<string, unknown>>
  /** Decode-As rules in tshark's -d syntax: `["tcp.port==8888,http"]`. */
  decodeAs?: string[]
}

const KNOWN_KEYS = new Set(['plugins', 'builtinPlugins', 'preferences', 'decodeAs'])

/** Validates a raw configuration object from `filepath`. */
export function validateConfig(raw: unknown, filepath?: string): NetkitConfig {
  const where = filepath ?? 'configuration'
  if (raw === null || raw === undefined) return { filepath, plugins: [], builtinPlugins: true }
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${where}: the configuration must be an object like {"plugins": ["./my-dissector.js"]}`)
  }
  const obj = raw as Record<string, unknown>
  for (const key of Object.keys(obj)) {
    if (!KNOWN_KEYS.has(key)) throw new ConfigError(`${where}: unknown key '${key}' (known: ${[...KNOWN_KEYS].join(', ')})`)
  }
  const plugins = obj.plugins ?? []
  if (!Array.isArray(plugins) || !plugins.every((p) => typeof p === 'string' && p.length > 0)) {
    throw new ConfigError(`${where}: 'plugins' must be an array of module paths, e.g. ["./my-dissector.js"]`)
  }
  const builtin = obj.builtinPlugins ?? true
  if (typeof builtin !== 'boolean') throw new ConfigError(`${where}: 'builtinPlugins' must be true or false`)
  const preferences = obj.preferences ?? {}
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v)
  if (!isObject(preferences) || !Object.values(preferences).every(isObject)) {
    throw new ConfigError(`${where}: 'preferences' maps dissector names to their settings, e.g. {"nkp": {"port": 7000}}`)
  }
  const decodeAs = obj.decodeAs ?? []
  if (!Array.isArray(decodeAs) || !decodeAs.every((d) => typeof d === 'string')) {
    throw new ConfigError(`${where}: 'decodeAs' is a list of tshark -d rules, e.g. ["tcp.port==8888,http"]`)
  }
  const base = filepath ? dirname(filepath) : process.cwd()
  return {
    filepath,
    plugins: plugins.map((p: string) => (p.startsWith('.') || p.startsWith('/') ? resolve(base, p) : p)),
    builtinPlugins: builtin,
    preferences: preferences as Record<string, Record<string, unknown>>,
    decodeAs: decodeAs as string[],
  }
}

/**
 * Whether folder `dir` holds a file whose name cosmiconfig looks for (every place it looks is
 * named after the module: `.netkitrc*`, `netkit.config.*`, `.config/netkitrc*`) or that can
 * change where it looks (its meta configuration: `.config/config.*`, package.yaml); a
 * package.json counts only with a `netkit` or `cosmiconfig` key. An unreadable folder counts,
 * so that cosmiconfig reports what is wrong with it.
 */
function namesConfig(dir: string): boolean {
  let names: string[]
  try {
    names = readdirSync(dir)
  } catch {
    return true
  }
  for (const name of names) {
    if (name.includes('netkit') || name === '.config' || name === 'package.yaml') return true
    if (name === 'package.json') {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, name), 'utf8')) as Record<string, unknown>
        if (pkg !== null && typeof pkg === 'object' && ('netkit' in pkg || 'cosmiconfig' in pkg)) return true
      } catch {
        return true
      }
    }
  }
  return false
}

/**
 * Whether cosmiconfig's search from `cwd` (stopDir cwd: cwd itself, then the global folder,
 * env-paths' `~/.config/netkit/`) could find anything. When it could not, cosmiconfig (a fifth
 * of a small run's start-up) need not be loaded.
 */
function mayHoldConfig(cwd: string): boolean {
  const xdg = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return namesConfig(cwd) || existsSync(join(xdg, 'netkit'))
}

/** Options of loadConfig. */
export interface LoadConfigOptions {
  /**
   * Apply the rules of a privileged run; by default when running as root or with CAP_NET_RAW or
   * CAP_NET_ADMIN. (A library caller that knows its files may pass false.)
   */
  privileged?: boolean
  /** Receives the one-line warning about a skipped configuration (default: stderr). */
  warn?: (line: string) => void
}

/**
 * Loads the configuration: from `explicitPath` when given, else searched for from `cwd`. Run with
 * privileges (root, CAP_NET_RAW, CAP_NET_ADMIN) nothing is searched for in `cwd`: see
 * loadPrivilegedConfig.
 */
export async function loadConfig(explicitPath?: string, cwd = process.cwd(), options: LoadConfigOptions = {}): Promise<NetkitConfig> {
  if (options.privileged ?? isPrivileged()) return loadPrivilegedConfig(explicitPath, cwd, options.warn ?? stderrLine)
  if (explicitPath === undefined && !mayHoldConfig(cwd)) return { plugins: [], builtinPlugins: true }
  const { cosmiconfig } = await import('cosmiconfig')
  const explorer = cosmiconfig('netkit', { stopDir: cwd })
  return readConfig(explicitPath === undefined ? () => explorer.search(cwd) : () => explorer.load(resolve(cwd, explicitPath)), explicitPath)
}

/** Runs a cosmiconfig load or search and validates its result; load failures become ConfigErrors. */
async function readConfig(find: () => Promise<{ config: unknown; filepath: string } | null>, explicitPath?: string): Promise<NetkitConfig> {
  let result
  try {
    result = await find()
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const file = explicitPath ?? (e as { filepath?: string }).filepath ?? 'configuration'
    if (e.code === 'ENOENT') throw new ConfigError(`${file}: no such configuration file`, { cause: err })
    const msg = (e.message ?? String(err)).split('\n')[0]
    throw new ConfigError(`${file}: cannot load the configuration: ${msg}`, { cause: err })
  }
  if (!result) return { plugins: [], builtinPlugins: true }
  return validateConfig(result.config, result.filepath)
}

function stderrLine(line: string): void {
  process.stderr.write(`${line}\n`)
}

/**
 * The configuration of a privileged run: `--config PATH`, else the invoking user's own folder
 * (privilege.ts userConfigDir: config.json, config.js, ... or the usual .netkitrc names there),
 * never one found in the working folder (one line says which it skipped). The file, and every
 * plugin file it names, must belong to root or to the invoking user and be writable by its owner
 * only; otherwise it is refused before any of its code runs.
 */
async function loadPrivilegedConfig(explicitPath: string | undefined, cwd: string, warn: (line: string) => void): Promise<NetkitConfig> {
  // No file to skip in cwd and no user config folder: nothing to warn about or load, and
  // cosmiconfig need not be loaded.
  if (explicitPath === undefined && !namesConfig(cwd)) {
    const dir = userConfigDir()
    if (dir === undefined || !existsSync(dir)) return { plugins: [], builtinPlugins: true }
  }
  const { cosmiconfig, getDefaultSearchPlaces, globalConfigSearchPlaces } = await import('cosmiconfig')
  let config: NetkitConfig
  if (explicitPath !== undefined) {
    const path = resolve(cwd, explicitPath)
    refuseUntrusted(path, 'configuration')
    config = await readConfig(() => cosmiconfig('netkit').load(path), explicitPath)
  } else {
    const skipped = getDefaultSearchPlaces('netkit').filter((name) => name !== 'package.json' && existsSync(join(cwd, name)))
    if (skipped.length > 0) {
      warn(`netkit: running with privileges: not loading ${skipped.map((n) => join(cwd, n)).join(', ')} from the working folder (pass it with --config, or put it in ${userConfigDir() ?? '~/.config/netkit'}/)`)
    }
    const dir = userConfigDir()
    const found = dir === undefined ? undefined : [...globalConfigSearchPlaces, ...getDefaultSearchPlaces('netkit')].map((n) => join(dir, n)).find((p) => existsSync(p))
    if (found === undefined) return { plugins: [], builtinPlugins: true }
    refuseUntrusted(found, 'configuration')
    config = await readConfig(() => cosmiconfig('netkit').load(found))
  }
  for (const plugin of config.plugins) if (isAbsolute(plugin)) refuseUntrusted(plugin, 'plugin')
  return config
}

function refuseUntrusted(path: string, what: string): void {
  const why = untrustedReason(path)
  if (why !== undefined) {
    throw new ConfigError(`${path}: refusing to load this ${what} with privileges: ${why}`, { hint: 'chmod go-w it, or chown it to yourself' })
  }
}
