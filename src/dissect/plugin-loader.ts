/**
 * Loads dissector plugins into a registry: the ones shipped in plugins/ and the user's from the
 * configuration, the same way. A plugin module default-exports a definition (or an array of
 * them). A plugin that fails to load or to register is reported and skipped; the others load.
 * Preferences (config and -o) are applied as each registers, Decode-As rules (config and -d)
 * once all have: a bad setting of either is a usage error, raised before any packet is read.
 */
import { readdirSync } from 'node:fs'
import { register as registerHooks } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { validateConfig, type NetkitConfig } from '../config.js'
import { InvalidArgumentError, PluginError } from '../errors.js'
import type { DissectorDefinition } from './api.js'
import { BUILTIN, readIndex, standIns, type StandIns } from './builtin-index.js'
import { applyDecodeAs } from './decode-as.js'
import { installedDissectors } from './installed-plugins.js'
import { findsNetkit, importPlugin, loadFailure, pluginFile } from './plugin-source.js'
import { preferenceValues } from './preferences.js'
import { DissectorRegistry } from './registry.js'

const here = dirname(fileURLToPath(import.meta.url))
/** The package root (dist/dissect/.. /..). */
const packageRoot = join(here, '..', '..')

let hooked = false

/**
 * Lets plugins anywhere on disk `import ... from 'netkit'` (or 'netkit/plugin') and get this
 * running netkit (a user's plugin folder has no node_modules/netkit of its own).
 */
function hookNetkitImports(): void {
  if (hooked) return
  hooked = true
  const entries = {
    netkit: pathToFileURL(join(packageRoot, 'dist', 'index.js')).href,
    'netkit/plugin': pathToFileURL(join(packageRoot, 'dist', 'plugin.js')).href,
  }
  const source = `const entries = ${JSON.stringify(entries)}
export async function resolve(spec, ctx, next) {
  if (Object.hasOwn(entries, spec)) return { url: entries[spec], shortCircuit: true }
  return next(spec, ctx)
}`
  registerHooks(`data:text/javascript,${encodeURIComponent(source)}`)
}

/** What loading produced. */
export interface LoadedDissectors {
  registry: DissectorRegistry
  /** One message per plugin that failed (already PluginErrors). */
  errors: PluginError[]
}

/**
 * Loads the shipped dissectors (unless the config turns them off), the config's plugins and, with
 * `installed` (the CLI's runs), those of packages added with `netkit plugins` (installed-plugins.ts).
 * With `lazy`, a shipped plugin the build's index describes is registered from the index and its
 * code loaded when a packet first reaches it (builtin-index.ts).
 */
export async function loadDissectors(config: NetkitConfig, options: { installed?: boolean; lazy?: boolean } = {}): Promise<LoadedDissectors> {
  const registry = new DissectorRegistry()
  const errors: PluginError[] = []
  const paths: string[] = []
  /** The source shown for a file (`netkit dissectors`' "from"): its package's name for an installed package's. */
  const sources = new Map<string, string>()
  const settings = config.preferences ?? {}
  /** Shipped plugins registered from the index, by file. */
  const indexed = new Map<string, StandIns>()
  if (config.builtinPlugins) {
    const dir = join(packageRoot, 'plugins')
    const present = new Set(readdirSync(dir))
    const index = options.lazy ? readIndex(packageRoot) : undefined
    for (const name of BUILTIN) {
      if (!present.has(name)) continue
      const file = join(dir, name, 'index.js')
      paths.push(file)
      const stand = index && standIns(packageRoot, name, file, index)
      // A plugin whose preferences this run sets is imported: register() may depend on them.
      if (stand && !stand.defs.some((d) => Object.hasOwn(settings, d.name))) indexed.set(file, stand)
    }
  }
  const builtinCount = paths.length
  const base = config.filepath ? dirname(config.filepath) : process.cwd()
  for (const spec of config.plugins) {
    try {
      paths.push(pluginFile(spec, base))
    } catch (err) {
      errors.push(err as PluginError)
    }
  }
  if (options.installed) {
    const found = installedDissectors()
    for (const why of found.skipped) errors.push(new PluginError(why))
    for (const d of found.dissectors) {
      paths.push(d.file)
      sources.set(d.file, `${d.packageName} (${d.file})`)
    }
  }
  // The resolve hook runs on a thread of its own (~50 ms to start): only for a plugin whose
  // `import 'netkit'` would not find this netkit by itself.
  if (paths.slice(builtinCount).some((p) => !findsNetkit(p, packageRoot))) hookNetkitImports()
  const modules = await Promise.all(paths.map(async (p) => {
    const stand = indexed.get(p)
    if (stand !== undefined) return { p, mod: { default: stand.defs } }
    try {
      return { p, mod: await importPlugin(p) }
    } catch (err) {
      errors.push(new PluginError(loadFailure(p, err), { cause: err }))
      return undefined
    }
  }))
  for (const m of modules) {
    if (!m) continue
    const defs = Array.isArray(m.mod.default) ? m.mod.default : [m.mod.default]
    for (const def of defs) {
      try {
        if (!def || typeof def !== 'object' || typeof (def as DissectorDefinition).dissect !== 'function') {
          throw new PluginError(`plugin ${m.p} does not default-export a dissector (use: export default defineDissector({...}))`)
        }
        const d = def as DissectorDefinition
        const reg = registry.register(d, sources.get(m.p) ?? m.p, preferenceValues(d, settings[d.name]))
        indexed.get(m.p)?.bind(reg)
      } catch (err) {
        if (err instanceof InvalidArgumentError) throw err
        errors.push(err instanceof PluginError ? err : new PluginError(`plugin ${m.p}: ${(err as Error).message}`, { cause: err }))
      }
    }
  }
  for (const name of Object.keys(settings)) {
    if (!registry.dissectors.some((d) => d.name === name)) {
      throw new InvalidArgumentError(`preference ${name}.${Object.keys(settings[name])[0] ?? ''}: no dissector '${name}' is loaded (netkit dissectors lists them)`)
    }
  }
  try {
    applyDecodeAs(registry, config.decodeAs ?? [])
  } catch (err) {
    // The dissector named may be one that failed to load: say why.
    if (errors.length > 0 && err instanceof InvalidArgumentError) throw new InvalidArgumentError(`${err.message}; ${errors.map((e) => e.message).join('; ')}`)
    throw err
  }
  return { registry, errors }
}

/**
 * A registry of the shipped dissectors and the plugins at `paths` (files, package folders or
 * package names, relative to the current folder), for scripts and a plugin's own tests: throws
 * the first plugin's failure rather than skipping it.
 */
export async function loadPlugins(paths: string[], settings: { preferences?: NetkitConfig['preferences']; decodeAs?: string[] } = {}): Promise<DissectorRegistry> {
  const config = validateConfig({ plugins: paths, ...settings })
  const { registry, errors } = await loadDissectors(config)
  if (errors.length > 0) throw errors[0]
  return registry
}
