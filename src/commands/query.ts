import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { DuckDbError } from '../export/duckdb.js'
import { ExitStatus } from '../errors.js'
import { openDatasetSql, runQuery, type QueryFormat } from '../export/query.js'
import { TextOutput } from '../format/output.js'

/** `netkit query`: SQL over a dataset written by `netkit export`. */
export default class Query extends NetkitCommand {
  static override summary = 'Run SQL (DuckDB) over a dataset written by netkit export: views packets, flows and http'
  static override examples = [
    '<%= config.bin %> query lake "SELECT conn_state, count(*) FROM flows GROUP BY ALL"',
    '<%= config.bin %> query lake "SELECT orig_h, uri, status_code FROM http WHERE status_code >= 500" --csv',
  ]
  static override args = {
    dir: Args.string({ description: 'dataset folder', required: true }),
    sql: Args.string({ description: 'SQL statement', required: true }),
  }
  static override flags = {
    csv: Flags.boolean({ description: 'CSV with a header line', exclusive: ['json'] }),
    json: Flags.boolean({ description: 'one JSON object per row', exclusive: ['csv'] }),
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Query)
    const format: QueryFormat = flags.csv ? 'csv' : flags.json ? 'json' : 'table'
    const conn = await openDatasetSql(args.dir)
    const out = new TextOutput()
    try {
      await runQuery(conn, args.sql, format, async (s) => {
        out.write(s)
        await out.ready()
      })
    } catch (err) {
      // SQL errors are usage errors: the statement is what to fix.
      if (err instanceof DuckDbError) {
        await out.end()
        process.stderr.write(`netkit query: ${err.message}\n`)
        process.exitCode = ExitStatus.usage
        return
      }
      throw err
    } finally {
      await out.end()
      conn.closeSync()
    }
  }
}
