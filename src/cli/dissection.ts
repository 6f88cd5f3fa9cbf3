/**
 * Loading a run's dissectors and compiling its display filter (`-Y`), apart from the -Y flag's
 * oclif definition (display-filter.ts), so that a command run without oclif (bin/run.js's fast
 * path) can load them too.
 */
import type { NetkitConfig } from '../config.js'
import type { CompiledDisplayFilter } from '../dfilter/index.js'
import { loadDissectors } from '../dissect/plugin-loader.js'
import type { DissectorRegistry } from '../dissect/registry.js'

/** The dissectors of a run and its compiled display filter (when -Y was given). */
export interface Dissection {
  registry: DissectorRegistry
  filter?: CompiledDisplayFilter
}

/**
 * Loads the dissectors (warnings to stderr, as `netkit COMMAND: warning: ...`) and compiles the
 * display filter, if any. Throws DisplayFilterError (a usage error) for a bad expression.
 */
export async function loadDissection(command: string, config: NetkitConfig, displayFilter: string | undefined): Promise<Dissection> {
  const loaded = await loadDissectors(config, { installed: true, lazy: true })
  for (const e of loaded.errors) process.stderr.write(`netkit ${command}: warning: ${e.message}\n`)
  const registry = loaded.registry
  if (displayFilter === undefined) return { registry }
  // The compiler is loaded only for a run with -Y.
  const { compileDisplayFilter } = await import('../dfilter/index.js')
  return { registry, filter: compileDisplayFilter(displayFilter, registry) }
}
