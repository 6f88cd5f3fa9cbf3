/**
 * Exporter: reads capture files and writes their packets, connections and HTTP transactions
 * into a Dataset. One pass per file: each record is run through the flow tracker (TCP/UDP
 * connections), dissected once (frame.protocols and the -e fields) and written as a staged CSV
 * row; the TCP tracker reassembles the streams for the HTTP transactions. Staged rows become
 * Parquet parts through DuckDB, a chunk at a time, one conversion running while the next chunk
 * is read. Memory is bounded by the live connections and the chunk buffers, not by input size.
 */
import { basename, join } from 'node:path'
import { mkdirSync, rmSync, statSync } from 'node:fs'
import v8 from 'node:v8'
import vm from 'node:vm'
import { DissectionEngine } from '../dissect/engine.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { openCaptureFile } from '../pcap/file-reader.js'
import { RecordKind } from '../pcap/record-batch.js'
import { HttpTransactionLog } from '../stream/http-log.js'
import { TcpTracker } from '../stream/tcp-tracker.js'
import { addressText } from '../stream/tcp-segment.js'
import { CsvStage } from './csv-stage.js'
import { Dataset, inputKey } from './dataset.js'
import { FlowTracker, type TrackedConn } from './flow-tracker.js'
import { PacketRows, writeFlowRow, writeHttpRow } from './rows.js'
import { flowsSchema, httpSchema, packetsSchema, type TableSchema } from './schema.js'

/**
 * Staged CSV bytes per chunk of a table: a chunk is converted while the next one is read, and
 * DuckDB's memory for a conversion follows the chunk's size (docs/performance.md, "Export: how
 * the Parquet files are written"), so every table's chunks are cut at the same size.
 * NETKIT_EXPORT_CHUNK_BYTES sets it (the tests cut small files into many chunks).
 */
export const CHUNK_BYTES = Number(process.env.NETKIT_EXPORT_CHUNK_BYTES) || 16 << 20

/** Options of an export. */
export interface ExportOptions {
  /** -e fields added to the packets table. */
  fields: string[]
  /** The tables to write (default all). */
  tables?: TableName[]
  registry: DissectorRegistry
  onWarning?: (message: string) => void
  /** Called now and then with the progress (for a TTY). */
  onProgress?: (p: ExportProgress) => void
}

/** Progress of an export. */
export interface ExportProgress {
  file: string
  fileIndex: number
  files: number
  packets: number
}

/** The dataset's tables. */
export const TABLES = ['packets', 'flows', 'http'] as const
/** One of TABLES. */
export type TableName = (typeof TABLES)[number]

/** What happened to one input. */
export interface InputResult {
  file: string
  skipped: boolean
  rows: Record<string, number>
}

/** Stands for "a transport header, no connection kept" when the flows table is not written. */
const NO_CONN = { conn: undefined, uid: '' } as unknown as TrackedConn

/** Layer names that name a connection's service (Zeek's service names). */
const SERVICES: Record<string, string> = { http: 'http', tls: 'ssl', dns: 'dns', ssh: 'ssh' }

/** Exports the files into the dataset, one after the other. */
export async function exportFiles(ds: Dataset, files: string[], options: ExportOptions): Promise<InputResult[]> {
  // The live state (connections, HTTP transactions in flight) is small but long-lived, spread
  // over V8's old-space pages as it was made, and a full GC without compaction frees no page
  // that still holds one of them: old space grew 15 -> 35 MiB over 10M packets with a flat live
  // heap. Compacting at every full GC keeps it a sawtooth (docs/performance.md, "Export memory").
  // V8 reads the flag at each GC; it applies to this process from here on.
  v8.setFlagsFromString('--compact-on-every-full-gc')
  // V8's own full GCs come when old space reaches a limit it sets from the live size, so a
  // conversion's peak met old space anywhere on its sawtooth (12-23 MiB over 10M packets; a 1M
  // export, too short to climb it, peaked ~8 MiB lower). A full GC before each conversion starts
  // (at most one per CHUNK_BYTES of staged CSV, so tiny test chunks do not pay it each time)
  // starts it with old space at its live size, at ~25-30 ms per 16 MiB chunk.
  // `gc` is V8's, exposed by the flag to contexts made after it is set.
  v8.setFlagsFromString('--expose-gc')
  fullGc ??= vm.runInNewContext('gc') as () => void
  const results: InputResult[] = []
  for (let f = 0; f < files.length; f++) results.push(await exportFile(ds, files[f], f, files.length, options))
  return results
}

/** V8's full garbage collection (set by exportFiles), and the CSV bytes staged since the last one. */
let fullGc: (() => void) | undefined
let stagedSinceGc = 0

async function exportFile(ds: Dataset, file: string, index: number, count: number, options: ExportOptions): Promise<InputResult> {
  const key = inputKey(file)
  const done = ds.exported(key)
  // Tables already written for this input are not written again (older manifests: all three).
  const want = new Set((options.tables ?? TABLES).filter((t) => !(done?.tables ?? (done ? TABLES : [])).includes(t)))
  if (want.size === 0) return { file, skipped: true, rows: done!.rows }
  const size = statSync(file).size
  const name = basename(file)
  const packetsTable = packetsSchema(options.fields)
  const rows = new PacketRows(options.registry, options.fields)
  const engine = new DissectionEngine(options.registry, { fields: rows.fieldIds, allLayers: true })
  const wantPackets = want.has('packets')
  // Connections are tracked for the flows table and for the http rows' uids.
  const wantFlows = want.has('flows') || want.has('http')
  // Dissection gives the packets' protocols and -e fields, and the flows' service.
  const dissect = wantPackets || wantFlows
  const csvDir = join(ds.staging, '_csv')
  const counts: Record<string, number> = { packets: 0, flows: 0, http: 0 }
  let pending: Promise<void> = Promise.resolve()
  let chunk = 0
  // Each table's stage, replaced by a new one when a chunk is handed to DuckDB.
  const stage = (t: TableSchema, buf?: Buffer) => new CsvStage(join(csvDir, `${key}-${t.name}-${chunk++}.csv`), buf)
  mkdirSync(csvDir, { recursive: true })
  const schemas = [packetsTable, flowsSchema, httpSchema]
  const live = { packets: stage(packetsTable), flows: stage(flowsSchema), http: stage(httpSchema) }
  const handOver = async (s: CsvStage, t: TableSchema) => {
    s.close()
    counts[t.name] += s.rows
    if (!want.has(t.name)) {
      rmSync(s.path, { force: true })
      return
    }
    const prev = pending
    // One conversion at a time: the previous one must finish before this one starts.
    // The part names carry the stage's own number (its CSV file's name): unique per chunk.
    pending = prev.then(() => {
      if (s.rows === 0) return
      // The full GC runs here, between two conversions, where DuckDB holds least.
      stagedSinceGc += s.written
      if (stagedSinceGc >= CHUNK_BYTES) {
        stagedSinceGc = 0
        fullGc?.()
      }
      return ds.convert(t, s.path, name, `part-${basename(s.path, '.csv')}`)
    })
    await prev
  }
  const full = () => live.packets.written + live.packets.pos >= CHUNK_BYTES || live.flows.written + live.flows.pos >= CHUNK_BYTES || live.http.written + live.http.pos >= CHUNK_BYTES
  /** Hands every full stage over: memory and disk follow the chunk, not the input. */
  const rotate = async () => {
    for (const t of schemas) {
      if (live[t.name].written + live[t.name].pos < CHUNK_BYTES) continue
      const filled = live[t.name]
      filled.close()
      live[t.name] = stage(t, filled.buf)
      await handOver(filled, t)
    }
  }
  const conns = new Map<string, { uid: string; depth: number }>()
  const connKey = (a: string, ap: number, b: string, bp: number) => `${a}:${ap}|${b}:${bp}`
  const tracker = new FlowTracker(key, (t) => {
    writeFlowRow(live.flows, t)
    if (t.conn.proto === 6) {
      const c = t.conn
      conns.delete(connKey(addressText(c.origAddr, 0, c.origAddr.length), c.origPort, addressText(c.respAddr, 0, c.respAddr.length), c.respPort))
    }
  })
  const httpLog = new HttpTransactionLog((t) => {
    const [client, server] = [t.client.replace(/^\[|\](?=:)/g, ''), t.server.replace(/^\[|\](?=:)/g, '')]
    const c = conns.get(`${client}|${server}`) ?? conns.get(`${server}|${client}`)
    if (c) c.depth++
    writeHttpRow(live.http, t, c?.uid, c?.depth ?? 1)
  })
  const tcp = want.has('http') ? new TcpTracker(httpLog.handler) : undefined
  const reader = await openCaptureFile(file, { onWarning: options.onWarning })
  let batches = 0
  let total = 0
  try {
    for await (const batch of reader.batches()) {
      const seg = tracker.seg
      for (let i = 0; i < batch.count; i++) {
        const isPacket = batch.kind[i] === RecordKind.packet
        // Without flows or http only the transport header is read (for the packet's columns).
        const t = !isPacket ? undefined : wantFlows ? tracker.track(batch, i) : seg.read(batch.data, batch.offset[i], batch.capLen[i], batch.linkType[i]) ? NO_CONN : undefined
        const packet = isPacket && dissect ? engine.dissect(batch, i) : undefined
        if (t !== undefined && t !== NO_CONN && packet !== undefined) {
          const c = t.conn
          if (c.orig.pkts + c.resp.pkts === 1 && c.proto === 6) {
            conns.set(connKey(addressText(c.origAddr, 0, c.origAddr.length), c.origPort, addressText(c.respAddr, 0, c.respAddr.length), c.respPort), { uid: t.uid, depth: 0 })
          }
          if (c.service === '') for (let l = packet.layerCount - 1; l >= 0; l--) {
            const s = SERVICES[packet.layer(l).name]
            if (s !== undefined) { c.service = s; break }
          }
        }
        if (isPacket && wantPackets) rows.write(live.packets, batch, i, packet, seg, t !== undefined)
        if (full()) await rotate()
      }
      total += batch.count
      tcp?.add(batch)
      if (++batches % 16 === 0) {
        tracker.expire()
        tcp?.release()
        options.onProgress?.({ file, fileIndex: index, files: count, packets: total })
      }
      await rotate()
    }
  } finally {
    await reader.close()
  }
  tcp?.finish()
  tracker.close()
  for (const t of schemas) await handOver(live[t.name], t)
  await pending
  const rowsDone = Object.fromEntries(Object.entries(counts).filter(([t]) => want.has(t as TableName)))
  ds.commit(key, { file, size, exported: new Date().toISOString(), tables: [...want], rows: rowsDone })
  return { file, skipped: false, rows: { ...done?.rows, ...rowsDone } }
}
