import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { configFlag } from '../cli/common-flags.js'
import { loadConfig } from '../config.js'
import { loadDissectors } from '../dissect/plugin-loader.js'

/** `netkit dissectors`: what is loaded, where each is reached from, and its fields. */
export default class Dissectors extends NetkitCommand {
  static override summary = 'List the loaded dissectors, the tables they register in, and their fields'
  static override examples = ['<%= config.bin %> dissectors', '<%= config.bin %> dissectors --json | jq ".[].name"', '<%= config.bin %> dissectors --config ./netkit.config.js']
  static override flags = {
    json: Flags.boolean({ description: 'print JSON' }),
    config: configFlag,
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Dissectors)
    const config = await loadConfig(flags.config)
    const { registry, errors } = await loadDissectors(config)
    for (const e of errors) process.stderr.write(`netkit dissectors: warning: ${e.message}\n`)
    const entries = registry.tableEntries()
    const list = registry.dissectors.map((d) => ({
      name: d.def.name,
      title: d.def.title ?? d.def.name,
      source: d.source,
      tables: entries.filter((e) => e.dissector === d.def.name).map((e) => ({ table: e.table, key: e.key })),
      fields: Object.values(d.ids).map((id) => ({ name: registry.fields[id].name, type: registry.fields[id].type, label: registry.fields[id].label ?? '' })),
    }))
    if (flags.json) {
      process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      return
    }
    let out = ''
    for (const d of list) {
      const where = d.tables.map((t) => `${t.table}${t.key === 'heuristic' ? ' (heuristic)' : `=${typeof t.key === 'number' && (t.table === 'ethertype' || t.table === 'gre.proto') ? '0x' + t.key.toString(16).padStart(4, '0') : t.key}`}`).join(', ')
      out += `${d.name}  ${d.title}${where ? `  [${where}]` : ''}\n    from ${d.source}\n`
      for (const f of d.fields) out += `    ${f.name.padEnd(36)} ${f.type.padEnd(7)} ${f.label}\n`
    }
    process.stdout.write(out)
    if (errors.length > 0) process.exitCode = 1
  }
}
