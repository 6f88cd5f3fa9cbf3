/**
 * What the consumers of a run's dissection (printers, display filters, exporters) declare they
 * need from it, so that the engine (engine.ts) records only that: wanted fields, the summary
 * line, every layer.
 */
/** What a consumer of dissection needs; consumers' needs are merged with mergeNeeds(). */
export interface DissectionNeeds {
  /** Ids of fields to record. */
  fields?: Iterable<number>
  /** Record every field (verbose trees, JSON). */
  allFields?: boolean
  /** The per-packet summary line (`-T text`). */
  info?: boolean
  /** Every layer, whether or not it records a wanted field (frame.protocols). */
  allLayers?: boolean
}

/** The needs of several consumers together. */
export function mergeNeeds(...needs: Array<DissectionNeeds | undefined>): DissectionNeeds {
  const fields: number[] = []
  const out: DissectionNeeds = { fields }
  for (const n of needs) {
    if (n === undefined) continue
    if (n.fields) for (const id of n.fields) fields.push(id)
    if (n.allFields) out.allFields = true
    if (n.info) out.info = true
    if (n.allLayers) out.allLayers = true
  }
  return out
}
