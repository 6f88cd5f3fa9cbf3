/**
 * netkit's configuration: found with cosmiconfig (module name `netkit`: package.json#netkit,
 * .netkitrc[.json|.yaml|.js|.cjs|.mjs], netkit.config.{js,mjs,cjs,ts}) or named with --config,
 * then validated. Relative plugin paths are resolved against the config file's folder.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { homedir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { ConfigError } from './errors.js'

/** A validated configuration. */
export interface NetkitConfig {
  /** Absolute path of the file it came from; undefined when none was found. */
  filepath?: string
  /** Dissector plugin modules, resolved to absolute paths (or bare package names). */
  plugins: string[]
  /** Whether to load the dissectors shipped in plugins/ (default true). */
  builtinPlugins: boolean
}

const KNOWN_KEYS = new Set(['plugins', 'builtinPlugins'])

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
  const base = filepath ? dirname(filepath) : process.cwd()
  return {
    filepath,
    plugins: plugins.map((p: string) => (p.startsWith('.') || p.startsWith('/') ? resolve(base, p) : p)),
    builtinPlugins: builtin,
  }
}

/**
 * Whether cosmiconfig's search from `cwd` (stopDir cwd: cwd itself, then the global folder) could
 * find anything: every place it looks is named after the module (`.netkitrc*`, `netkit.config.*`,
 * `.config/netkitrc*`, env-paths' `~/.config/netkit/`), or is a package.json with a `netkit` key,
 * or is a file that can change where it looks (its meta configuration: package.json's
 * `cosmiconfig` key, package.yaml, `.config/config.*`). When none of these exists, the search
 * finds nothing, and cosmiconfig (a fifth of a small run's start-up) need not be loaded.
 */
function mayHoldConfig(cwd: string): boolean {
  let names: string[]
  try {
    names = readdirSync(cwd)
  } catch {
    return true // let cosmiconfig report what is wrong with the folder
  }
  for (const name of names) {
    if (name.includes('netkit') || name === '.config' || name === 'package.yaml') return true
    if (name === 'package.json') {
      try {
        const pkg = JSON.parse(readFileSync(join(cwd, name), 'utf8')) as Record<string, unknown>
        if (pkg !== null && typeof pkg === 'object' && ('netkit' in pkg || 'cosmiconfig' in pkg)) return true
      } catch {
        return true
      }
    }
  }
  const xdg = process.env.XDG_CONFIG_HOME || join(homedir(), '.config')
  return existsSync(join(xdg, 'netkit'))
}

/** Loads the configuration: from `explicitPath` when given, else searched for from `cwd`. */
export async function loadConfig(explicitPath?: string, cwd = process.cwd()): Promise<NetkitConfig> {
  if (explicitPath === undefined && !mayHoldConfig(cwd)) return { plugins: [], builtinPlugins: true }
  const { cosmiconfig } = await import('cosmiconfig')
  const explorer = cosmiconfig('netkit', { stopDir: cwd })
  let result
  try {
    result = explicitPath ? await explorer.load(resolve(cwd, explicitPath)) : await explorer.search(cwd)
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
