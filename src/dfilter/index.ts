/**
 * Display filters: Wireshark 4.0's filter language (wireshark-filter(4)) compiled once into a
 * JS predicate over DissectedPacket. `compileDisplayFilter('tcp.port == 80', registry)` checks
 * the expression against the registry's fields and gives the field ids the engine must record
 * and a match function that allocates nothing on the common paths.
 */
import type { DissectedPacket } from '../dissect/dissected-packet.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { DisplayFilterError } from '../errors.js'
import { compileTest } from './compile.js'
import { CompileContext } from './operands.js'
import { parseDisplayFilter } from './parser.js'

export { DisplayFilterError }

/** A display filter compiled against one registry. */
export interface CompiledDisplayFilter {
  readonly expr: string
  /** Field ids the filter reads (the engine records only wanted fields, so these must be declared). */
  readonly fields: number[]
  /** True when the packet matches. */
  match(packet: DissectedPacket): boolean
}

/**
 * Compiles a display filter. Throws DisplayFilterError (one line, with the offset) for a syntax
 * error, an unknown field, or a comparison Wireshark 4.0 would refuse.
 */
export function compileDisplayFilter(expr: string, registry: DissectorRegistry): CompiledDisplayFilter {
  const ctx = new CompileContext(registry, expr)
  const match = compileTest(parseDisplayFilter(expr), ctx)
  return { expr, fields: [...ctx.fields].sort((a, b) => a - b), match }
}
