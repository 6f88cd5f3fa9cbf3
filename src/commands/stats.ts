import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { configFlag } from '../cli/common-flags.js'
import { displayFilterFlag, loadDissection } from '../cli/display-filter.js'
import { loadConfig } from '../config.js'
import { InvalidArgumentError } from '../errors.js'
import { runTaps } from '../stats/run.js'
import { parseSpec, SPEC_USAGE } from '../stats/spec.js'

/** `netkit stats`: tshark's -z statistics tables of a capture file. */
export default class Stats extends NetkitCommand {
  static override summary = 'Statistics of a capture file, as tshark -q -z prints them (I/O, conversations, endpoints, protocol hierarchy, HTTP, expert)'
  static override description = `SPEC is tshark's -z argument: ${SPEC_USAGE}. FILTER is a display filter (wireshark-filter(4)).`
  static override strict = false
  static override examples = [
    '<%= config.bin %> stats -r web.pcap conv,tcp',
    "<%= config.bin %> stats -r web.pcap conv,tcp io,phs 'io,stat,1,tcp.port == 80,http.response.code >= 400'",
    '<%= config.bin %> stats -r web.pcap io,stat,1,tcp,"http.request" endpoints,ip',
    '<%= config.bin %> stats -r web.pcap io,phs http,tree expert --json',
  ]
  static override flags = {
    read: Flags.string({ char: 'r', description: 'capture file to read (- for standard input)', required: true, helpValue: 'FILE' }),
    json: Flags.boolean({ description: 'one JSON object: {"SPEC": table, ...}' }),
    'display-filter': displayFilterFlag,
    config: configFlag,
  }

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Stats)
    const specs = (argv as string[]).flatMap((a) => a === '-z' ? [] : [a])
    if (specs.length === 0) throw new InvalidArgumentError(`give at least one SPEC: ${SPEC_USAGE}`)
    const { registry, filter } = await loadDissection('stats', await loadConfig(flags.config), flags['display-filter'])
    const taps = specs.map((s) => parseSpec(s, registry))
    const span = await runTaps(flags.read, taps, { registry, displayFilter: filter, onWarning: (w) => process.stderr.write(`netkit stats: warning: ${w}\n`) })
    if (flags.json) {
      process.stdout.write(JSON.stringify(Object.fromEntries(taps.map((t) => [t.spec, t.json(span)])), null, 1) + '\n')
      return
    }
    process.stdout.write(taps.map((t) => t.text(span)).join(''))
  }
}
