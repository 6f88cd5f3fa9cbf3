/**
 * Hostile input for the wire dissectors: damaged copies of real captures (every record cut short
 * at a pseudo-random length, bits flipped in every record, the file cut off), and a run of the
 * shipped dissectors over files in this process that records what a robust dissector must never
 * do: let an exception out of the engine, or fail a layer by a programming error (a TypeError or
 * RangeError is a bug; truncation and malformed() are the expected outcomes of bad bytes).
 */
import { DissectionEngine, loadDissectors, openCaptureFile, RecordKind, validateConfig } from '../../src/index.js'

/** A small deterministic generator (xorshift32): the same damage on every run. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1
  return () => {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    return x
  }
}

/** The records of a classic little-endian pcap file: [header offset, data offset, caplen]. */
export function pcapRecords(file: Buffer): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = []
  if (file.length < 24 || file.readUInt32LE(0) !== 0xa1b2c3d4 && file.readUInt32LE(0) !== 0xa1b23c4d) return out
  for (let p = 24; p + 16 <= file.length;) {
    const cap = file.readUInt32LE(p + 8)
    if (p + 16 + cap > file.length) break
    out.push([p, p + 16, cap])
    p += 16 + cap
  }
  return out
}

/** Damaged copies of a pcap file: `trunc` (records cut short), `flip` (bits flipped), `cut` (file cut off). */
export function mutations(file: Buffer): Array<[string, Buffer]> {
  const recs = pcapRecords(file)
  const next = rng(file.length)
  const parts: Buffer[] = [file.subarray(0, 24)]
  for (const [h, d, cap] of recs) {
    const keep = cap === 0 ? 0 : next() % cap
    const head = Buffer.from(file.subarray(h, h + 16))
    head.writeUInt32LE(keep, 8)
    parts.push(head, file.subarray(d, d + keep))
  }
  const trunc = Buffer.concat(parts)
  const flip = Buffer.from(file)
  for (const [, d, cap] of recs) {
    for (let k = 0; k < 3 && cap > 0; k++) {
      const at = d + (next() % cap)
      flip[at] ^= 1 << (next() % 8)
    }
  }
  const cut = file.subarray(0, Math.max(24, Math.floor(file.length * 0.6)))
  return [['trunc', trunc], ['flip', flip], ['cut', Buffer.from(cut)]]
}

/** Layers of the dissectors the wire tests own. */
const OURS = new Set(['gre', 'erspan', 'vxlan', 'geneve', 'llc', 'stp', 'cmd', 'ip', 'ipv6.fraghdr', 'eth'])

/** What a run over files found. */
export interface HostileReport {
  packets: number
  tunnelLayers: number
  /** Exceptions that left the engine (file: message). */
  escaped: string[]
  /** Layers of ours marked malformed by a programming error (file frame layer: reason). */
  bugs: string[]
}

/** Dissects every packet of `files` with every field and the text line wanted. */
export async function hostileRun(files: string[]): Promise<HostileReport> {
  const { registry } = await loadDissectors(validateConfig({ plugins: [] }))
  const report: HostileReport = { packets: 0, tunnelLayers: 0, escaped: [], bugs: [] }
  for (const file of files) {
    // A fresh engine per file, as a run has: reassembly state does not carry over.
    const engine = new DissectionEngine(registry, { allFields: true, info: true })
    let reader
    try {
      reader = await openCaptureFile(file)
    } catch {
      continue // not a capture file at all (a cut header): the reader's one clear error
    }
    try {
      for await (const batch of reader.batches()) {
        for (let i = 0; i < batch.count; i++) {
          if (batch.kind[i] !== RecordKind.packet) continue
          let packet
          try {
            packet = engine.dissect(batch, i)
          } catch (err) {
            report.escaped.push(`${file}: ${err instanceof Error ? err.stack : String(err)}`)
            continue
          }
          report.packets++
          for (const layer of packet.layers) {
            if (!OURS.has(layer.name)) continue
            if (layer.name !== 'ip' && layer.name !== 'eth') report.tunnelLayers++
            if (layer.status === 'malformed' && /TypeError|RangeError|is not|Cannot read|undefined|Maximum call/.test(layer.reason ?? '')) {
              report.bugs.push(`${file} frame ${packet.number} ${layer.name}: ${layer.reason}`)
            }
          }
        }
      }
    } catch (err) {
      // A damaged file ends with the reader's error; what came before was dissected.
      if (!(err instanceof Error) || !/NETKIT_ERR|truncated|cut short|file/i.test(`${(err as { code?: string }).code ?? ''} ${err.message}`)) report.escaped.push(`${file}: reader: ${String(err)}`)
    } finally {
      await reader.close()
    }
  }
  return report
}
