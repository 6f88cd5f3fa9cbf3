/**
 * A statistics tap: one `-z` table of `netkit stats` (tshark's taps, ui/cli/tap-*.c). A run
 * dissects the file once and hands every packet to every tap; each tap names the fields it reads,
 * so the engine records only those, and may carry its own display filter (tshark's per-tap filter).
 */
import type { CompiledDisplayFilter } from '../dfilter/index.js'
import type { DissectedPacket } from '../dissect/dissected-packet.js'

/** Where a packet lies in the capture: times relative to the first packet, in seconds. */
export interface PacketTime {
  /** Seconds since the capture's first packet (nanosecond-exact double of the difference). */
  rel: number
  /** The capture's first packet's time (epoch seconds and nanoseconds). */
  firstSec: number
  firstNsec: number
}

/** What a run tells every tap at the end: the capture's first and last packet times. */
export interface CaptureSpan {
  firstSec: number
  firstNsec: number
  /** Seconds from the first packet to the last (0 for an empty capture). */
  duration: number
  packets: number
}

/** One table of `netkit stats`. */
export interface StatsTap {
  /** The spec as the user wrote it (`conv,tcp`). */
  readonly spec: string
  /** Field names read (Wireshark's); those not registered are left out by the run. */
  readonly fields: readonly string[]
  /** Every layer's name is read (io,phs): the engine must decode all layers. */
  readonly allLayers?: boolean
  /** The tap's own filter (`conv,tcp,FILTER`), when given. */
  filter?: CompiledDisplayFilter
  /** One packet (the filter already passed). */
  add(packet: DissectedPacket, time: PacketTime): void
  /** The table as tshark -q -z prints it. */
  text(span: CaptureSpan): string
  /** The same as a JSON value. */
  json(span: CaptureSpan): unknown
}

/** The first occurrence index of field `id` in the packet, or -1. */
export function first(p: DissectedPacket, id: number): number {
  return id < 0 ? -1 : p.occurrences.firstOf(id)
}

/**
 * The last occurrence of any of `ids` before occurrence `k` (the enclosing layer's field: the IP
 * address of a TCP header is the last one recorded before it), or -1.
 */
export function lastBefore(p: DissectedPacket, ids: readonly number[], k: number): number {
  let best = -1
  const o = p.occurrences
  for (const id of ids) {
    if (id < 0) continue
    for (let j = o.firstOf(id); j !== -1 && j < k; j = o.next[j]) if (j > best) best = j
  }
  return best
}
