/**
 * BatchFilter: applies one filter expression to batches whose records may come from interfaces
 * of different link types (pcapng), compiling the expression once per link type it meets.
 */
import type { RecordBatch } from '../pcap/record-batch.js'
import { compileFilter, type CompiledFilter } from './index.js'

/** A filter expression applied to RecordBatches for files. */
export class BatchFilter {
  private readonly byLinkType = new Map<number, CompiledFilter>()
  /** The select array the last apply() filled (grown as needed, reused). */
  select = new Uint8Array(0)

  /** Compiles `expr` for `linkType` now, so that syntax errors surface before any output. */
  constructor(readonly expr: string, firstLinkType?: number) {
    if (firstLinkType !== undefined) this.compiled(firstLinkType)
  }

  private compiled(linkType: number): CompiledFilter {
    let f = this.byLinkType.get(linkType)
    if (!f) {
      f = compileFilter(this.expr, { linkType }).filter
      this.byLinkType.set(linkType, f)
    }
    return f
  }

  /** Fills `select` for the batch (1 = matches) and returns how many matched, at most `limit`. */
  apply(batch: RecordBatch, limit = Infinity): number {
    if (this.select.length < batch.count) this.select = new Uint8Array(Math.max(batch.count, batch.capacity))
    const { data, offset, capLen, origLen, kind, linkType } = batch
    const select = this.select
    let n = 0
    let lt = -2
    let f: CompiledFilter | undefined
    for (let i = 0; i < batch.count; i++) {
      if (kind[i] !== 0 || n >= limit) { select[i] = 0; continue }
      if (linkType[i] !== lt) { lt = linkType[i]; f = this.compiled(lt) }
      const ok = f!(data, offset[i], capLen[i], origLen[i]) !== 0 ? 1 : 0
      select[i] = ok
      n += ok
    }
    return n
  }
}
