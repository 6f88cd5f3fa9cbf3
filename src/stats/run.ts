/**
 * One pass over a capture file for `netkit stats`: the file is dissected once, recording only
 * the fields the taps and their filters read, and every packet goes to every tap whose filter
 * it passes. Memory is the taps' tables (conversations, intervals), never the packets.
 */
import type { CompiledDisplayFilter } from '../dfilter/index.js'
import { DissectionEngine } from '../dissect/engine.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { openCaptureFile } from '../pcap/file-reader.js'
import { RecordKind } from '../pcap/record-batch.js'
import type { CaptureSpan, PacketTime, StatsTap } from './tap.js'

/** Options of runTaps(). */
export interface RunOptions {
  registry: DissectorRegistry
  /** -Y: only the packets it matches reach the taps (the span still covers every packet). */
  displayFilter?: CompiledDisplayFilter
  onWarning?: (w: string) => void
}

/** The field ids the taps read, their filters' and the display filter's. */
function fieldIds(taps: readonly StatsTap[], registry: DissectorRegistry, displayFilter?: CompiledDisplayFilter): number[] {
  const ids: number[] = []
  for (const t of taps) {
    for (const name of t.fields) {
      const id = registry.fieldByName.get(name)
      if (id !== undefined) ids.push(id)
    }
    if (t.filter) ids.push(...t.filter.fields)
    const cols = (t as { filters?: CompiledDisplayFilter[] }).filters
    if (cols) for (const f of cols) ids.push(...f.fields)
  }
  if (displayFilter) ids.push(...displayFilter.fields)
  return ids
}

/** Feeds every packet of `path` to the taps; returns the capture's span. */
export async function runTaps(path: string, taps: readonly StatsTap[], options: RunOptions): Promise<CaptureSpan> {
  const engine = new DissectionEngine(options.registry, {
    fields: fieldIds(taps, options.registry, options.displayFilter),
    allLayers: taps.some((t) => t.allLayers),
  })
  const reader = await openCaptureFile(path, { onWarning: options.onWarning })
  const time: PacketTime = { rel: 0, firstSec: 0, firstNsec: 0 }
  const span: CaptureSpan = { firstSec: 0, firstNsec: 0, duration: 0, packets: 0 }
  const df = options.displayFilter
  try {
    for await (const batch of reader.batches()) {
      for (let i = 0; i < batch.count; i++) {
        if (batch.kind[i] !== RecordKind.packet) continue
        const p = engine.dissect(batch, i)
        if (span.packets++ === 0) {
          time.firstSec = span.firstSec = p.sec
          time.firstNsec = span.firstNsec = p.nsec
        }
        // Wireshark's nstime_to_sec of the exact difference: whole seconds plus nanoseconds / 1e9.
        const ns = (p.sec - time.firstSec) * 1e9 + (p.nsec - time.firstNsec)
        const whole = Math.floor(ns / 1e9)
        time.rel = whole + (ns - whole * 1e9) / 1e9
        if (time.rel > span.duration) span.duration = time.rel
        if (df !== undefined && !df.match(p)) continue
        for (const t of taps) if (t.filter === undefined || t.filter.match(p)) t.add(p, time)
      }
    }
  } finally {
    await reader.close()
  }
  return span
}
