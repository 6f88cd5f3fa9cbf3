import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { configFlag } from '../cli/common-flags.js'
import { dissectionFlags, withDissectionFlags } from '../cli/dissection-flags.js'
import { loadConfig } from '../config.js'
import { InvalidArgumentError } from '../errors.js'
import { checkPlugin, formatCheck } from '../dissect/plugin-check.js'
import { loadDissectors } from '../dissect/plugin-loader.js'
import type { DissectorRegistry } from '../dissect/registry.js'

/** `netkit dissectors`: what is loaded, where each is reached from, its preferences and fields. */
export default class Dissectors extends NetkitCommand {
  static override summary = 'List the loaded dissectors, the tables they register in, their preferences and fields'
  static override examples = [
    '<%= config.bin %> dissectors',
    '<%= config.bin %> dissectors http',
    '<%= config.bin %> dissectors nkp',
    '<%= config.bin %> dissectors --json | jq ".[].name"',
    '<%= config.bin %> dissectors --check ./my-dissector',
    '<%= config.bin %> dissectors new nkp --udp 9999',
  ]
  static override args = {
    name: Args.string({ description: 'show only this dissector (with its preferences\' values)', required: false }),
  }
  static override flags = {
    json: Flags.boolean({ description: 'print JSON' }),
    check: Flags.string({ description: 'validate the plugin at PATH (a file, a package folder or a package name) and say what to fix', helpValue: 'PATH' }),
    config: configFlag,
    ...dissectionFlags,
  }

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Dissectors)
    if (flags.check !== undefined) {
      const result = await checkPlugin(flags.check)
      process.stdout.write(flags.json ? JSON.stringify(result, null, 2) + '\n' : formatCheck(result))
      if (result.problems.length > 0) process.exitCode = 1
      return
    }
    const config = withDissectionFlags(await loadConfig(flags.config), flags)
    const { registry, errors } = await loadDissectors(config, { installed: true })
    for (const e of errors) process.stderr.write(`netkit dissectors: warning: ${e.message}\n`)
    let list = describe(registry)
    if (args.name !== undefined) {
      list = list.filter((d) => d.name === args.name)
      if (list.length === 0) throw new InvalidArgumentError(`no dissector '${args.name}' is loaded (dissectors: ${registry.dissectors.map((d) => d.name).sort().join(', ')})`)
    }
    if (flags.json) {
      process.stdout.write(JSON.stringify(list, null, 2) + '\n')
      return
    }
    let out = ''
    for (const d of list) {
      const where = d.tables.map((t) => `${t.table}${t.key === 'heuristic' ? ' (heuristic)' : `=${typeof t.key === 'number' && (t.table === 'ethertype' || t.table === 'gre.proto') ? '0x' + t.key.toString(16).padStart(4, '0') : t.key}`}`).join(', ')
      out += `${d.name}  ${d.title}${where ? `  [${where}]` : ''}\n    from ${d.source}\n`
      for (const p of d.preferences) {
        out += `    preference ${d.name}.${p.name} (${p.type}) = ${String(p.value)}${p.value === p.default ? '' : ` (default ${String(p.default)})`}${p.description ? `  ${p.description}` : ''}\n`
      }
      for (const f of d.fields) out += `    ${f.name.padEnd(36)} ${f.type.padEnd(7)} ${f.label}\n`
    }
    process.stdout.write(out)
    if (errors.length > 0) process.exitCode = 1
  }
}

/** The dissectors as `netkit dissectors` shows them. */
function describe(registry: DissectorRegistry) {
  const entries = registry.tableEntries()
  return registry.dissectors.map((d) => ({
    name: d.def.name,
    title: d.def.title ?? d.def.name,
    source: d.source,
    tables: entries.filter((e) => e.dissector === d.def.name).map((e) => ({ table: e.table, key: e.key })),
    preferences: Object.entries(d.def.preferences ?? {}).map(([name, p]) => ({ name, type: p.type, value: d.prefs[name], default: p.default, description: p.description ?? '' })),
    fields: Object.values(d.ids).map((id) => ({ name: registry.fields[id].name, type: registry.fields[id].type, label: registry.fields[id].label ?? '' })),
  }))
}
