/**
 * The Elasticsearch/OpenSearch index template for `-T ek` documents, as `tshark -G
 * elastic-mapping` prints it: `timestamp` a date, and under `layers.<protocol>.properties` each
 * field's key (`ip_ip_src`) with the type tshark gives its kind: addresses `ip`, booleans
 * `boolean`, whole numbers `long` (netkit's fields do not declare a width), floating point
 * `float`. Text and byte fields are left out, as tshark leaves them out (the template is
 * `dynamic: false`; they stay searchable in `_source`).
 */
import type { FieldType } from '../dissect/field-types.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { InvalidArgumentError } from '../errors.js'
import { ekKey } from './ndjson-line.js'

const ES_TYPE: Partial<Record<FieldType, string>> = { uint: 'long', int: 'long', bool: 'boolean', double: 'float', ipv4: 'ip', ipv6: 'ip' }

/** The template for `fields` (all fields of the registry when none are named). */
export function ekMapping(registry: DissectorRegistry, fields?: string[]): Record<string, unknown> {
  const layers: Record<string, { properties: Record<string, { type: string }> }> = {}
  const wanted = fields && fields.length > 0 ? new Set(fields) : undefined
  if (wanted) {
    for (const f of wanted) if (!registry.fieldByName.has(f)) throw new InvalidArgumentError(`unknown field '${f}' (netkit dissectors lists every field)`)
  }
  for (const spec of registry.fields) {
    if (wanted && !wanted.has(spec.name)) continue
    // 0x-hex numbers print as strings, as tshark's do; they are not mapped as numbers.
    const type = spec.hexDigits !== undefined && spec.type !== 'bool' ? undefined : ES_TYPE[spec.type]
    if (type === undefined) continue
    const proto = spec.name.split('.')[0]
    ;(layers[proto] ??= { properties: {} }).properties[ekKey(spec.name)] = { type }
  }
  return {
    settings: { 'index.mapping.total_fields.limit': 1000000 },
    mappings: { dynamic: false, properties: { timestamp: { type: 'date' }, layers: { properties: layers } } },
  }
}
