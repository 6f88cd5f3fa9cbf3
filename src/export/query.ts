/**
 * SQL over a dataset `netkit export` wrote: DuckDB with views `packets`, `flows` and `http`
 * over each table's Hive-partitioned Parquet files (an empty view of the table's columns when
 * it has none yet), results streamed out as a table, CSV or JSON lines.
 */
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import type { DuckDBConnection } from '@duckdb/node-api'
import { FileAccessError } from '../errors.js'
import { DuckDbError, duckMessage, openDuckDb } from './duckdb.js'
import { flowsSchema, httpSchema, ident, literal, packetsSchema, type TableSchema } from './schema.js'

/** How `netkit query` prints results. */
export type QueryFormat = 'table' | 'csv' | 'json'

function hasParquet(dir: string): boolean {
  if (!existsSync(dir)) return false
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.isDirectory() ? hasParquet(join(dir, e.name)) : e.name.endsWith('.parquet')) return true
  }
  return false
}

/** The view of one table: its files, or no rows with its columns. */
function viewSql(dir: string, t: TableSchema): string {
  const folder = join(dir, t.name)
  if (hasParquet(folder)) {
    return `CREATE VIEW ${t.name} AS SELECT * FROM read_parquet(${literal(join(folder, '**', '*.parquet'))}, hive_partitioning = true, union_by_name = true)`
  }
  const cols = [...t.columns, { name: 'date', type: 'DATE' }, { name: 'hour', type: 'BIGINT' }]
  return `CREATE VIEW ${t.name} AS SELECT ${cols.map((c) => `NULL::${c.type} AS ${ident(c.name)}`).join(', ')} WHERE false`
}

/** Opens DuckDB with the dataset's views defined. */
export async function openDatasetSql(dir: string): Promise<DuckDBConnection> {
  if (!existsSync(dir)) throw new FileAccessError(dir, 'no such dataset folder (make one with netkit export -r FILE -o DIR)')
  const conn = await openDuckDb()
  for (const t of [packetsSchema(), flowsSchema, httpSchema]) await conn.run(viewSql(dir, t))
  return conn
}

const NUMERIC = /^(TINYINT|SMALLINT|INTEGER|BIGINT|HUGEINT|UTINYINT|USMALLINT|UINTEGER|UBIGINT|FLOAT|DOUBLE|DECIMAL)/

function csvField(v: unknown): string {
  if (v === null || v === undefined) return ''
  const s = typeof v === 'string' ? v : JSON.stringify(v)
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** A JSON value as the table shows it. */
function cellText(v: unknown): string {
  if (v === null || v === undefined) return 'NULL'
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/**
 * Runs `sql` and writes its result to `out` in `format`. An SQL error is a DuckDbError with
 * DuckDB's message.
 */
export async function runQuery(conn: DuckDBConnection, sql: string, format: QueryFormat, out: (s: string) => Promise<void> | void): Promise<number> {
  let result
  try {
    result = await conn.stream(sql)
  } catch (err) {
    throw new DuckDbError(duckMessage(err), { cause: err })
  }
  const names = result.deduplicatedColumnNames()
  const numeric = result.columnTypes().map((t) => NUMERIC.test(t.toString()))
  const convert = (row: unknown[]) => row.map((v, c) => (numeric[c] && typeof v === 'string' && v !== '' && Number.isSafeInteger(Number(v)) ? Number(v) : v))
  let n = 0
  const table: string[][] = []
  if (format === 'csv') await out(names.map(csvField).join(',') + '\n')
  try {
    for await (const rows of result.yieldRowsJson()) {
      let text = ''
      for (const raw of rows) {
        const row = convert(raw as unknown[])
        n++
        if (format === 'csv') text += row.map(csvField).join(',') + '\n'
        else if (format === 'json') text += JSON.stringify(Object.fromEntries(names.map((k, c) => [k, row[c]]))) + '\n'
        else table.push(row.map(cellText))
      }
      if (text) await out(text)
    }
  } catch (err) {
    throw new DuckDbError(duckMessage(err), { cause: err })
  }
  if (format === 'table') await out(formatTable(names, table, numeric))
  return n
}

/** Rows as an aligned text table (numbers to the right), with a header and a row count. */
function formatTable(names: string[], rows: string[][], numeric: boolean[]): string {
  const width = names.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c].length)))
  const line = (cells: string[]) => cells.map((s, c) => (numeric[c] ? s.padStart(width[c]) : s.padEnd(width[c]))).join('  ').trimEnd() + '\n'
  let s = line(names) + width.map((w) => '-'.repeat(w)).join('  ') + '\n'
  for (const r of rows) s += line(r)
  return s + `(${rows.length} row${rows.length === 1 ? '' : 's'})\n`
}
