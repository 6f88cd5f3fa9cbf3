import { Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { configFlag } from '../cli/common-flags.js'
import { loadDissection } from '../cli/display-filter.js'
import { loadConfig } from '../config.js'
import { captureReportData } from '../report/capture-data.js'
import { writeReport } from '../report/write-report.js'

/** `netkit report`: a self-contained HTML report of a capture file, with plots. */
export default class Report extends NetkitCommand {
  static override summary = 'Write a self-contained HTML report of a capture: I/O graph, protocol hierarchy, conversations, TCP stream graphs, HTTP latency'
  static override examples = ['<%= config.bin %> report -r web.pcap -o report.html']
  static override flags = {
    read: Flags.string({ char: 'r', description: 'capture file to read (- for standard input)', required: true, helpValue: 'FILE' }),
    output: Flags.string({ char: 'o', description: 'the HTML file to write', required: true, helpValue: 'FILE' }),
    config: configFlag,
  }

  async run(): Promise<void> {
    const { flags } = await this.parse(Report)
    const { registry } = await loadDissection('report', await loadConfig(flags.config), undefined)
    const data = await captureReportData(flags.read, registry, (w) => process.stderr.write(`netkit report: warning: ${w}\n`))
    const bytes = writeReport(flags.output, `netkit report: ${flags.read === '-' ? 'standard input' : flags.read.split('/').pop()}`, data)
    process.stderr.write(`netkit report: wrote ${flags.output} (${(bytes / 1024).toFixed(0)} KiB)\n`)
  }
}
