/**
 * PacketSelector: marks the records of a batch that a test on their dissection passes (a
 * display filter), for consumers that take whole batches: a file writer, the TCP tracker of
 * `streams`, `follow` and `http-log`. Dissection records only the fields the test reads, and
 * skips the layers that cannot lead to one.
 */
import type { RecordBatch } from '../pcap/record-batch.js'
import { RecordKind } from '../pcap/record-batch.js'
import type { DissectedPacket } from './dissected-packet.js'
import { DissectionEngine } from './engine.js'
import type { DissectorRegistry } from './registry.js'

/** A test on dissected packets (a compiled display filter), and the fields it reads. */
export interface PacketPredicate {
  readonly fields: readonly number[]
  match(packet: DissectedPacket): boolean
}

/** Selects records by a PacketPredicate; one per run (the engine keeps the run's stream state). */
export class PacketSelector {
  /** select[i] is 1 for the records the last apply() kept, 0 for the others. */
  select = new Uint8Array(0)
  private readonly engine: DissectionEngine

  constructor(registry: DissectorRegistry, private readonly predicate: PacketPredicate) {
    this.engine = new DissectionEngine(registry, { fields: predicate.fields })
  }

  /**
   * Marks the records that match (among those with pre[i] !== 0 when `pre` is given), at most
   * `limit` of them; returns how many. A record that is not a packet never matches.
   */
  apply(batch: RecordBatch, pre?: Uint8Array, limit = Infinity): number {
    if (this.select.length < batch.count) this.select = new Uint8Array(batch.capacity)
    const select = this.select
    const engine = this.engine
    let n = 0
    for (let i = 0; i < batch.count; i++) {
      select[i] = 0
      if ((pre !== undefined && pre[i] === 0) || n === limit || batch.kind[i] !== RecordKind.packet) continue
      if (this.predicate.match(engine.dissect(batch, i))) {
        select[i] = 1
        n++
      }
    }
    return n
  }
}
