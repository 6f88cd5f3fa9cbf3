import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { configFlag } from '../cli/common-flags.js'
import { loadDissection } from '../cli/display-filter.js'
import { loadConfig } from '../config.js'
import { InvalidArgumentError } from '../errors.js'
import { Dataset } from '../export/dataset.js'
import { exportFiles, TABLES, type ExportProgress, type TableName } from '../export/exporter.js'
import { expandInputs } from '../export/inputs.js'
import { ekMapping } from '../format/ek.js'

/** `netkit export`: capture files to a Parquet dataset (packets, flows, http). */
export default class Export extends NetkitCommand {
  static override summary = 'Write capture files as a Hive-partitioned Parquet dataset: packets, flows (Zeek conn.log) and HTTP transactions'
  static override description = 'Tables packets/, flows/ and http/ under DIR, partitioned by date=YYYY-MM-DD/hour=H (UTC). ' +
    'Exporting a file already in the dataset adds nothing; new files add new parts. Query with `netkit query DIR "SQL"`, DuckDB, Spark, Trino or pyarrow.'
  static override examples = [
    '<%= config.bin %> export -r captures/ -o lake',
    '<%= config.bin %> export -r monday.pcapng -r tuesday.pcapng -o lake -e http.host -e ip.ttl',
    '<%= config.bin %> export --ek-mapping -e http.host',
  ]
  static override flags = {
    read: Flags.string({ char: 'r', description: 'capture file, folder or glob (repeatable)', multiple: true, helpValue: 'FILE' }),
    output: Flags.string({ char: 'o', description: 'dataset folder', helpValue: 'DIR' }),
    field: Flags.string({ char: 'e', description: 'field added to the packets table (Wireshark name; repeatable)', multiple: true, multipleNonGreedy: true, helpValue: 'FIELD' }),
    'ek-mapping': Flags.boolean({ description: 'print an Elasticsearch/OpenSearch index template for the fields in use (as tshark -G elastic-mapping) and exit' }),
    tables: Flags.string({ description: 'tables to write (comma-separated; default all)', default: 'packets,flows,http', helpValue: 'packets,flows,http' }),
    quiet: Flags.boolean({ char: 'q', description: 'no progress or summary on stderr' }),
    config: configFlag,
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Export)
    const config = await loadConfig(flags.config)
    const { registry } = await loadDissection('export', config, undefined)
    if (flags['ek-mapping']) {
      process.stdout.write(JSON.stringify(ekMapping(registry, flags.field), null, 2) + '\n')
      return
    }
    if (!flags.read?.length) throw new InvalidArgumentError('give the capture files with -r FILE (a file, a folder or a glob; repeatable)')
    if (!flags.output) throw new InvalidArgumentError('give the dataset folder with -o DIR')
    const files = expandInputs(flags.read)
    const fields = [...new Set(flags.field ?? [])]
    const tables = flags.tables.split(',').map((t) => t.trim()) as TableName[]
    for (const t of tables) if (!TABLES.includes(t)) throw new InvalidArgumentError(`unknown table '${t}' in --tables (packets, flows, http)`)
    const ds = Dataset.open(flags.output)
    const tty = process.stderr.isTTY && !flags.quiet
    let last = 0
    const progress = (p: ExportProgress) => {
      const now = Date.now()
      if (now - last < 200) return
      last = now
      process.stderr.write(`\r\x1b[Kexport: file ${p.fileIndex + 1}/${p.files} ${p.file.split('/').pop()}: ${p.packets} packets`)
    }
    try {
      const results = await exportFiles(ds, files, {
        fields, registry, tables,
        onWarning: (w) => process.stderr.write(`${tty ? '\r\x1b[K' : ''}netkit export: warning: ${w}\n`),
        onProgress: tty ? progress : undefined,
      })
      if (tty) process.stderr.write('\r\x1b[K')
      if (!flags.quiet) {
        for (const r of results) {
          process.stderr.write(r.skipped
            ? `${r.file}: already in the dataset, skipped\n`
            : `${r.file}: ${Object.entries(r.rows).map(([t, n]) => `${n} ${t === 'http' ? 'http transactions' : t}`).join(', ')}\n`)
        }
      }
    } finally {
      ds.close()
    }
  }
}
