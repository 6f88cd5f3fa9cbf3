/**
 * The library's way in to dissection: readPackets() over a capture file and dissect() of one
 * packet's bytes, both yielding DissectedPacket values with fields by Wireshark name.
 */
import { validateConfig } from '../config.js'
import { compileDisplayFilter } from '../dfilter/index.js'
import { InvalidArgumentError } from '../errors.js'
import { openCaptureFile } from '../pcap/file-reader.js'
import { RecordBatch, RecordKind } from '../pcap/record-batch.js'
import type { DissectedPacket } from './dissected-packet.js'
import { DissectionEngine, type DissectionNeeds } from './engine.js'
import { loadDissectors } from './plugin-loader.js'
import type { DissectorRegistry } from './registry.js'

/** Options of readPackets() and dissect(). */
export interface DissectOptions {
  /**
   * The dissectors to use; by default the shipped ones. For the user's plugins too, pass
   * `(await loadDissectors(await loadConfig())).registry`.
   */
  registry?: DissectorRegistry
  /**
   * The fields the caller reads (Wireshark names). Only these are recorded and only layers that
   * lead to them run, which is much faster; by default every field is recorded.
   */
  fields?: string[]
}

/** Options of readPackets(). */
export interface ReadPacketsOptions extends DissectOptions {
  /** A display filter (wireshark-filter(4)): only the packets it matches are yielded. */
  displayFilter?: string
}

let shipped: Promise<DissectorRegistry> | undefined

/** The registry of the shipped dissectors (loaded once per process). */
function defaultRegistry(): Promise<DissectorRegistry> {
  shipped ??= loadDissectors(validateConfig({ plugins: [] })).then((l) => l.registry)
  return shipped
}

/** The engine's needs for `fields` (undefined: every field). */
function needsOf(registry: DissectorRegistry, fields: string[] | undefined): DissectionNeeds {
  if (fields === undefined) return { allFields: true }
  return {
    fields: fields.map((name) => {
      const id = registry.fieldByName.get(name)
      if (id === undefined) throw new InvalidArgumentError(`unknown field '${name}' (netkit dissectors lists every field)`)
      return id
    }),
  }
}

/**
 * The packets of a pcap or pcapng file, dissected, in order (records that are not packets are
 * skipped). Each yielded value is the same reused DissectedPacket, valid until the next
 * iteration: copy what must outlive it. Memory stays bounded by the live stream state.
 */
export async function* readPackets(path: string, options: ReadPacketsOptions = {}): AsyncGenerator<DissectedPacket> {
  const registry = options.registry ?? await defaultRegistry()
  const filter = options.displayFilter === undefined ? undefined : compileDisplayFilter(options.displayFilter, registry)
  const needs = needsOf(registry, options.fields)
  if (filter && needs.fields) needs.fields = [...needs.fields, ...filter.fields]
  const engine = new DissectionEngine(registry, needs)
  const reader = await openCaptureFile(path)
  try {
    for await (const batch of reader.batches()) {
      for (let i = 0; i < batch.count; i++) {
        if (batch.kind[i] !== RecordKind.packet) continue
        const packet = engine.dissect(batch, i)
        if (filter === undefined || filter.match(packet)) yield packet
      }
    }
  } finally {
    await reader.close()
  }
}

/**
 * Dissects one packet's bytes (a frame of link type `linkType`, LINKTYPE_ETHERNET by default).
 * The result is the caller's: nothing reuses it.
 */
export async function dissect(bytes: Uint8Array, options: DissectOptions & { linkType?: number; timestamp?: number } = {}): Promise<DissectedPacket> {
  const registry = options.registry ?? await defaultRegistry()
  const batch = new RecordBatch(1)
  const data = Buffer.from(bytes)
  batch.reset(data, 1)
  batch.offset[0] = 0
  batch.capLen[0] = batch.origLen[0] = data.length
  const ts = options.timestamp ?? 0
  batch.tsSec[0] = Math.floor(ts)
  batch.tsNsec[0] = Math.round((ts - Math.floor(ts)) * 1e9)
  batch.iface[0] = -1
  batch.linkType[0] = options.linkType ?? 1
  batch.kind[0] = RecordKind.packet
  batch.count = 1
  return new DissectionEngine(registry, needsOf(registry, options.fields)).dissect(batch, 0)
}
