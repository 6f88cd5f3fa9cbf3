/**
 * DuckDB, loaded only by the commands that use it (`export`, `query`), so no other command pays
 * its start-up. One in-memory database per run; times are shown and cut into partitions in UTC.
 */
import { NetkitError } from '../errors.js'
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api'

/** An error DuckDB raised (an SQL error, an unreadable file): its message, as DuckDB gave it. */
export class DuckDbError extends NetkitError {
  override readonly code = 'NETKIT_ERR_SQL'
}

/** Opens an in-memory DuckDB and returns a connection, with TimeZone set to UTC. */
export async function openDuckDb(): Promise<DuckDBConnection> {
  return (await openDuckDbInstance()).conn
}

/** openDuckDb, with the database itself, for a caller that closes it (and frees its memory) before the process ends. */
export async function openDuckDbInstance(): Promise<{ instance: DuckDBInstance; conn: DuckDBConnection }> {
  let api: typeof import('@duckdb/node-api')
  try {
    api = await import('@duckdb/node-api')
  } catch (err) {
    throw new NetkitError('DuckDB (@duckdb/node-api) could not be loaded', { cause: err, hint: 'npm install @duckdb/node-api' })
  }
  const instance = await api.DuckDBInstance.create(':memory:')
  const conn = await instance.connect()
  await conn.run("SET TimeZone = 'UTC'")
  return { instance, conn }
}

/** The first line of a DuckDB error's message. */
export function duckMessage(err: unknown): string {
  const m = err instanceof Error ? err.message : String(err)
  return m.split('\n')[0]
}
