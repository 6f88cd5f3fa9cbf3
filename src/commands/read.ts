import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { outputFlags } from '../cli/common-flags.js'
import { filterExpression } from '../cli/filter-expression.js'
import { PacketOutput } from '../cli/packet-output.js'
import { loadConfig } from '../config.js'
import { loadDissection } from '../cli/display-filter.js'
import { withDissectionFlags } from '../cli/dissection-flags.js'
import { BatchFilter } from '../filter/batch-filter.js'
import { needsDissection, type OutputFormat } from '../format/packet-printer.js'
import { openCaptureFile } from '../pcap/file-reader.js'

/** `netkit read`: read a pcap or pcapng file, print its packets or rewrite them. */
export default class Read extends NetkitCommand {
  static override summary = 'Read packets from a pcap or pcapng file (like tcpdump -r / tshark -r)'
  static override strict = false
  static override examples = [
    '<%= config.bin %> read -r capture.pcap',
    '<%= config.bin %> read -r capture.pcapng -T fields -e frame.number -e frame.time_epoch -e frame.len',
    '<%= config.bin %> read -r in.pcap -w out.pcapng -F pcapng --nano',
    '<%= config.bin %> read -r web.pcap -Y \'http.response.code >= 400\'',
    '<%= config.bin %> read -r web.pcap -Y \'http.request.method == "GET"\' -T fields -e http.request.uri',
    'cat capture.pcap | <%= config.bin %> read -r - -c 10',
  ]
  static override args = {
    filter: Args.string({ description: 'pcap-filter(7) expression (the trailing words, as in tcpdump)', required: false, ignoreStdin: true }),
  }
  static override flags = {
    read: Flags.string({ char: 'r', description: 'file to read (- for standard input)', required: true, helpValue: 'FILE' }),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const { flags, raw } = await this.parse(Read)
    const filter = filterExpression(raw)
    const config = withDissectionFlags(await loadConfig(flags.config), flags) // a broken configuration is reported before any work starts
    const print = { format: flags.format as OutputFormat, fields: flags.field, hex: flags.hex, nano: flags.nano }
    const displayFilter = flags['display-filter']
    const { registry, filter: dfilter } = (!flags.write && needsDissection(print)) || displayFilter !== undefined
      ? await loadDissection('read', config, displayFilter)
      : { registry: undefined, filter: undefined }
    const reader = await openCaptureFile(flags.read, { onWarning: (w) => process.stderr.write(`netkit read: warning: ${w}\n`) })
    const output = new PacketOutput({
      format: flags.format as OutputFormat,
      fields: flags.field,
      hex: flags.hex,
      write: flags.write,
      fileFormat: flags['file-format'] as 'pcap' | 'pcapng',
      nano: flags.nano,
    }, () => reader.interfaces, registry, dfilter)
    // Compile before any output so a bad expression is one error line and nothing else.
    const bpf = filter === '' ? undefined : new BatchFilter(filter, reader.interfaces[0]?.linkType)
    let left = flags.count ?? Infinity
    try {
      if (reader.format === 'pcap') output.open()
      for await (const batch of reader.batches()) {
        if (bpf) bpf.apply(batch, left)
        left -= await output.write(batch, bpf?.select, left)
        if (left === 0 || output.closed) break
      }
    } finally {
      await output.close()
      await reader.close()
    }
  }
}
