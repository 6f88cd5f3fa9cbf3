/**
 * `-Y EXPR`: the display filter (wireshark-filter(4)) of every command that reads packets. The
 * expression is compiled once, before any packet is read, against the run's dissectors, so an
 * unknown field or a type error is one usage error line and nothing else.
 */
import { Flags } from '@oclif/core'
import type { NetkitConfig } from '../config.js'
import { compileDisplayFilter, type CompiledDisplayFilter } from '../dfilter/index.js'
import { loadDissectors } from '../dissect/plugin-loader.js'
import type { DissectorRegistry } from '../dissect/registry.js'

/** -Y EXPR. */
export const displayFilterFlag = Flags.string({
  char: 'Y',
  description: 'display filter (Wireshark syntax, e.g. \'http.response.code >= 400\'): keep only the packets it matches',
  helpValue: 'EXPR',
})

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
  const loaded = await loadDissectors(config)
  for (const e of loaded.errors) process.stderr.write(`netkit ${command}: warning: ${e.message}\n`)
  const registry = loaded.registry
  return displayFilter === undefined ? { registry } : { registry, filter: compileDisplayFilter(displayFilter, registry) }
}
