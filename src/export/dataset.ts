/**
 * Dataset: the folder `netkit export` writes. Each table has its own folder of Hive partitions
 * (`flows/date=2026-12-07/hour=13/part-....parquet`); `_netkit_manifest.json` records which
 * inputs (by content key) were exported and the part files each one wrote, so exporting the
 * same file again adds nothing. Files and folders starting with `_` are skipped by Spark,
 * Trino, pyarrow and pandas. Parts are written into a staging folder first and renamed into
 * place, then the manifest is rewritten (write and rename): a run that dies leaves either no
 * part of an input or parts the next run of that input deletes before writing its own.
 */
import { createHash } from 'node:crypto'
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'
import { processAlive } from '../capture/fanout.js'
import { FileAccessError, NetkitError } from '../errors.js'
import { DuckDbError, duckMessage, openDuckDbInstance } from './duckdb.js'
import { CSV_BUFFER, literal, stagedSelect, type TableSchema } from './schema.js'

/**
 * Staged CSV bytes converted by one DuckDB database before it is closed and a new one opened.
 * DuckDB's memory between conversions creeps up conversion after conversion (jemalloc's arena
 * fragments; docs/performance.md, "Export memory: recycling the database"): a new database
 * every ~160 MiB of CSV (ten 16 MiB chunks) keeps a 10M-packet export's peak at the 1M one's.
 * A new database per chunk was worse (new threads and arenas each time).
 * NETKIT_EXPORT_RECYCLE_BYTES sets it (the tests recycle often on small files).
 */
const RECYCLE_BYTES = Number(process.env.NETKIT_EXPORT_RECYCLE_BYTES) || 160 << 20

/**
 * Rows per Parquet row group (DuckDB's default is 122880). A partition's writer holds a row
 * group's rows until it is full, so this bounds a conversion's peak: at half the default, an
 * http chunk's COPY peaks ~14 MiB lower and scatters less from one conversion to the next
 * (docs/performance.md, "Export memory: flushing DuckDB's allocators"). With the partition
 * flushes below, row groups come out at ~36k rows (they were ~56-72k).
 */
const ROW_GROUP_ROWS = 61440

/** What the manifest keeps per exported input. */
export interface ManifestEntry {
  file: string
  size: number
  exported: string
  /** The tables written for it (an input exported with --tables packets can add flows later). */
  tables: string[]
  rows: Record<string, number>
  parts: string[]
}

interface Manifest {
  version: 1
  inputs: Record<string, ManifestEntry>
}

const MANIFEST = '_netkit_manifest.json'
const LOCK = '_netkit.lock'

/**
 * An input's content key: SHA-256 of its size and its first and last MiB (the same capture
 * under another name is the same input; a grown or different file is a new one).
 */
export function inputKey(path: string): string {
  const size = statSync(path).size
  const h = createHash('sha256').update(String(size))
  const fd = openSync(path, 'r')
  try {
    const buf = Buffer.alloc(Math.min(size, 1 << 20))
    h.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, 0)))
    if (size > buf.length) h.update(buf.subarray(0, readSync(fd, buf, 0, buf.length, size - buf.length)))
  } finally {
    closeSync(fd)
  }
  return h.digest('hex').slice(0, 16)
}

/** An open dataset folder (locked against a second exporter for as long as it is open). */
export class Dataset {
  private manifest: Manifest = { version: 1, inputs: {} }
  private conn: DuckDBConnection | undefined
  private db: DuckDBInstance | undefined
  /** Staged CSV bytes the open database has converted. */
  private converted = 0
  readonly staging: string

  private constructor(readonly dir: string) {
    this.staging = join(dir, `_staging-${process.pid}`)
  }

  /** Opens (creating) the folder and takes its lock; a live exporter holding it is an error. */
  static open(dir: string): Dataset {
    try {
      mkdirSync(dir, { recursive: true })
    } catch (err) {
      throw new FileAccessError(dir, `cannot create the dataset folder: ${(err as Error).message}`, { cause: err })
    }
    const lock = join(dir, LOCK)
    for (let attempt = 0; ; attempt++) {
      try {
        writeFileSync(lock, String(process.pid), { flag: 'wx' })
        break
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw new FileAccessError(dir, `cannot lock the dataset: ${(err as Error).message}`, { cause: err })
        const pid = Number(readFileSync(lock, 'utf8'))
        if (pid > 0 && processAlive(pid)) throw new NetkitError(`${dir}: another netkit export (pid ${pid}) is writing this dataset`, { hint: 'wait for it to finish' })
        unlinkSync(lock) // left by an exporter that died
      }
    }
    const ds = new Dataset(dir)
    // Staging folders of exporters that died hold nothing the manifest names.
    for (const name of readdirSync(dir)) if (name.startsWith('_staging-')) rmSync(join(dir, name), { recursive: true, force: true })
    const path = join(dir, MANIFEST)
    if (existsSync(path)) {
      try {
        ds.manifest = JSON.parse(readFileSync(path, 'utf8')) as Manifest
      } catch (err) {
        ds.close()
        throw new FileAccessError(path, `unreadable manifest: ${(err as Error).message}`, { cause: err })
      }
    }
    mkdirSync(ds.staging, { recursive: true })
    return ds
  }

  /** The entry of an input exported before (all or some of its tables), by its key. */
  exported(key: string): ManifestEntry | undefined {
    return this.manifest.inputs[key]
  }

  private async duck(): Promise<DuckDBConnection> {
    if (this.converted >= RECYCLE_BYTES) this.closeDuck()
    if (this.conn === undefined) {
      // DuckDB's jemalloc reads this when the library loads (netkit export loads it here, first):
      // one arena instead of its two, for the one thread that converts (below). Two arenas kept
      // ~30 MiB more after sixty 16 MiB conversions, fragments in both. A user's own setting wins.
      process.env.DUCKDB_JE_MALLOC_CONF ??= 'narenas:1'
      ;({ instance: this.db, conn: this.conn } = await openDuckDbInstance())
      // Rows of a part need not keep the staged order: without it COPY streams instead of
      // buffering whole partitions, so memory stays flat however long the input.
      await this.conn.run('SET preserve_insertion_order = false')
      // DuckDB keeps freed buffers for reuse up to its limit (80% of RAM by default): capped
      // here, so one export's memory does not creep up conversion after conversion.
      await this.conn.run("SET memory_limit = '256MB'")
      // A partitioned COPY buffers each thread's rows until this many (524288 by default: a
      // whole chunk) before handing them to the partition's Parquet writer; 16384 rows keeps
      // that small without shrinking the row groups below ~60k rows.
      await this.conn.run('SET partitioned_write_flush_threshold = 16384')
      // jemalloc's background thread returns freed pages to the system between conversions
      // (its decay otherwise runs only when DuckDB allocates again).
      await this.conn.run('SET allocator_background_threads = true')
      // One DuckDB thread: the conversion runs beside the reading (netkit's own thread), and a
      // second thread would double the per-thread CSV buffers and partition states.
      await this.conn.run('SET threads = 1')
      // Before DuckDB reserves a buffer larger than this it flushes its allocators: jemalloc's
      // thread cache and arenas are purged and glibc's arenas trimmed (malloc_trim, at most every
      // 100 ms). Below read_csv's buffer (CSV_BUFFER), that happens at every CSV buffer a
      // conversion reads, so what the COPY and the previous one freed is returned at a known point,
      // not left to jemalloc's decay and to glibc's per-thread arenas (the COPYs run on whichever
      // thread-pool thread is free): without it, what stayed after each COPY climbed 51 -> 89 MiB
      // over a database's ten conversions (docs/performance.md, "Export memory: flushing DuckDB's
      // allocators").
      await this.conn.run(`SET allocator_bulk_deallocation_flush_threshold = '${CSV_BUFFER / 2}B'`)
    }
    return this.conn
  }

  /**
   * Turns a staged CSV file into Parquet parts of `table` under the staging folder; returns
   * their paths relative to the staging folder. The CSV file is removed.
   */
  async convert(table: TableSchema, csvPath: string, captureFile: string, partPrefix: string): Promise<void> {
    const conn = await this.duck()
    this.converted += statSync(csvPath).size
    const out = join(this.staging, table.name)
    mkdirSync(out, { recursive: true })
    try {
      await conn.run(`COPY (${stagedSelect(table, csvPath, captureFile)}) TO ${literal(out)} ` +
        `(FORMAT parquet, PARTITION_BY (date, hour), FILENAME_PATTERN ${literal(`${partPrefix}-{i}`)}, ROW_GROUP_SIZE ${ROW_GROUP_ROWS}, OVERWRITE_OR_IGNORE true)`)
    } catch (err) {
      throw new DuckDbError(`writing ${table.name} parts failed: ${duckMessage(err)}`, { cause: err })
    } finally {
      rmSync(csvPath, { force: true })
    }
  }

  /**
   * Moves the staged parts of one input into place and records the input in the manifest
   * (parts an earlier, interrupted run left for the same key are deleted first).
   */
  commit(key: string, entry: Omit<ManifestEntry, 'parts'>): ManifestEntry {
    const staged = listFiles(this.staging)
    const mine = (f: string) => entry.tables.some((t) => f.includes(`part-${key}-${t}-`))
    for (const old of listFiles(this.dir).filter((f) => !f.startsWith('_') && mine(f))) rmSync(join(this.dir, old), { force: true })
    const before = this.manifest.inputs[key]
    const parts: string[] = before ? before.parts.filter((f) => !mine(f)) : []
    for (const rel of staged) {
      const to = join(this.dir, rel)
      mkdirSync(join(to, '..'), { recursive: true })
      renameSync(join(this.staging, rel), to)
      parts.push(rel)
    }
    const done = before
      ? { ...entry, tables: [...new Set([...before.tables ?? [], ...entry.tables])], rows: { ...before.rows, ...entry.rows }, parts }
      : { ...entry, parts }
    this.manifest.inputs[key] = done
    const path = join(this.dir, MANIFEST)
    writeFileSync(`${path}.tmp`, JSON.stringify(this.manifest, null, 1) + '\n')
    renameSync(`${path}.tmp`, path)
    return done
  }

  /** Releases the lock and the staging folder. */
  close(): void {
    rmSync(this.staging, { recursive: true, force: true })
    rmSync(join(this.dir, LOCK), { force: true })
    this.closeDuck()
  }

  private closeDuck(): void {
    this.conn?.closeSync()
    this.db?.closeSync()
    this.conn = undefined
    this.db = undefined
    this.converted = 0
  }
}

/** Files under `dir` (recursively), as paths relative to it. */
function listFiles(dir: string): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) {
        if (!e.name.startsWith('_')) walk(p)
      } else out.push(relative(dir, p))
    }
  }
  if (existsSync(dir)) walk(dir)
  return out
}
