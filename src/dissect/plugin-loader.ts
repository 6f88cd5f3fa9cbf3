/**
 * Loads dissector plugins into a registry: the ones shipped in plugins/ and the user's from the
 * configuration, the same way. A plugin module default-exports a definition (or an array of
 * them). A plugin that fails to load or to register is reported and skipped; the others load.
 */
import { readdirSync } from 'node:fs'
import { register as registerHooks } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { NetkitConfig } from '../config.js'
import { PluginError } from '../errors.js'
import type { DissectorDefinition } from './api.js'
import { DissectorRegistry } from './registry.js'

const here = dirname(fileURLToPath(import.meta.url))
/** The package root (dist/dissect/.. /..). */
const packageRoot = join(here, '..', '..')
/** Shipped plugins, in load order (link layers first). */
const BUILTIN = ['ethernet', 'sll', 'raw-ip', 'ppp', 'arp', 'mpls', 'ipv4', 'ipv6', 'icmp', 'icmpv6', 'udp', 'tcp', 'http', 'openflow', 'dns', 'dhcp', 'tls']

let hooked = false

/**
 * Lets plugins anywhere on disk `import ... from 'netkit'` and get this running netkit (a user's
 * plugin folder has no node_modules/netkit of its own).
 */
function hookNetkitImports(): void {
  if (hooked) return
  hooked = true
  const entry = pathToFileURL(join(packageRoot, 'dist', 'index.js')).href
  const source = `export async function resolve(spec, ctx, next) {
  if (spec === 'netkit') return { url: ${JSON.stringify(entry)}, shortCircuit: true }
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

/** Loads the shipped dissectors (unless the config turns them off) and the config's plugins. */
export async function loadDissectors(config: NetkitConfig): Promise<LoadedDissectors> {
  const registry = new DissectorRegistry()
  const errors: PluginError[] = []
  const paths: string[] = []
  if (config.builtinPlugins) {
    const dir = join(packageRoot, 'plugins')
    const present = new Set(readdirSync(dir))
    for (const name of BUILTIN) if (present.has(name)) paths.push(join(dir, name, 'index.js'))
  }
  if (config.plugins.length > 0) hookNetkitImports()
  paths.push(...config.plugins)
  const modules = await Promise.all(paths.map(async (p) => {
    try {
      return { p, mod: await import(p.startsWith('/') ? pathToFileURL(p).href : p) as { default?: unknown } }
    } catch (err) {
      const reason = err instanceof Error ? err.message.split('\n')[0] : String(err)
      errors.push(new PluginError(`plugin ${p} failed to load: ${reason}`, { cause: err }))
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
        registry.register(def as DissectorDefinition, m.p)
      } catch (err) {
        errors.push(err instanceof PluginError ? err : new PluginError(`plugin ${m.p}: ${(err as Error).message}`, { cause: err }))
      }
    }
  }
  return { registry, errors }
}
