/**
 * The SPECs of `netkit stats`, in tshark's -z syntax: parsed and compiled (their filters against
 * the run's dissectors) before any packet is read, so a bad spec is one usage error.
 */
import { compileDisplayFilter } from '../dfilter/index.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { InvalidArgumentError } from '../errors.js'
import { ConversationTap, EndpointTap, isConversationType } from './conversations.js'
import { ExpertTap } from './expert.js'
import { HttpTreeTap } from './http-tree.js'
import { IoStatTap } from './io-stat.js'
import { ProtocolHierarchyTap } from './proto-hierarchy.js'
import type { StatsTap } from './tap.js'

/** The specs `netkit stats` knows, for usage messages. */
export const SPEC_USAGE = 'io,stat,INTERVAL[,FILTER...] | conv,eth|ip|ipv6|tcp|udp[,FILTER] | endpoints,eth|ip|ipv6|tcp|udp[,FILTER] | io,phs[,FILTER] | http,tree[,FILTER] | expert[,FILTER]'

/** Compiles one spec into its tap. */
export function parseSpec(spec: string, registry: DissectorRegistry): StatsTap {
  const parts = spec.split(',')
  const rest = (from: number): string | undefined => parts.length > from ? parts.slice(from).join(',') : undefined
  const withFilter = <T extends StatsTap>(tap: T, filter: string | undefined): T => {
    if (filter !== undefined && filter !== '') tap.filter = compileDisplayFilter(filter, registry)
    return tap
  }
  const [a, b] = parts
  if (a === 'io' && b === 'stat') {
    if (parts.length < 3) throw new InvalidArgumentError(`io,stat needs an interval in seconds: io,stat,INTERVAL[,FILTER...] (got '${spec}')`)
    const filters = parts.length > 3 ? parts.slice(3) : ['']
    const columns = filters.map((f) => {
      if (/^\s*(COUNT|SUM|MIN|MAX|AVG|LOAD)\s*\(/.test(f)) throw new InvalidArgumentError(`io,stat: calculated columns (${f.split('(')[0].trim()}(...)) are not supported yet; give display filters`)
      return f.trim() === '' ? { text: '' } : { text: f, filter: compileDisplayFilter(f, registry) }
    })
    return new IoStatTap(spec, parts[2], columns)
  }
  if (a === 'io' && b === 'phs') return withFilter(new ProtocolHierarchyTap(spec, rest(2)), rest(2))
  if ((a === 'conv' || a === 'endpoints') && b !== undefined) {
    if (!isConversationType(b)) throw new InvalidArgumentError(`${a}: unknown type '${b}' (netkit knows eth, ip, ipv6, tcp, udp)`)
    return withFilter(a === 'conv' ? new ConversationTap(spec, b, rest(2)) : new EndpointTap(spec, b, rest(2)), rest(2))
  }
  if (a === 'http' && b === 'tree') return withFilter(new HttpTreeTap(spec, rest(2)), rest(2))
  if (a === 'expert') return withFilter(new ExpertTap(spec, registry, rest(1)), rest(1))
  throw new InvalidArgumentError(`unknown statistic '${spec}'; netkit stats knows ${SPEC_USAGE}`)
}
