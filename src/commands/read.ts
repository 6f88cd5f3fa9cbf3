import { Args, Flags } from '@oclif/core'
import { NetkitCommand } from '../cli/base-command.js'
import { outputFlags } from '../cli/common-flags.js'
import { InvalidArgumentError } from '../errors.js'
import { FramePrinter, type OutputFormat } from '../format/frame-printer.js'
import { TextOutput } from '../format/output.js'
import { openCaptureFile } from '../pcap/file-reader.js'
import { createCaptureWriter, type CaptureWriter } from '../pcap/writer.js'

/** `netkit read`: read a pcap or pcapng file, print its packets or rewrite them. */
export default class Read extends NetkitCommand {
  static override summary = 'Read packets from a pcap or pcapng file (like tcpdump -r / tshark -r)'
  static override strict = false
  static override examples = [
    '<%= config.bin %> read -r capture.pcap',
    '<%= config.bin %> read -r capture.pcapng -T fields -e frame.number -e frame.time_epoch -e frame.len',
    '<%= config.bin %> read -r in.pcap -w out.pcapng -F pcapng --nano',
    'cat capture.pcap | <%= config.bin %> read -r - -c 10',
  ]
  static override args = {
    filter: Args.string({ description: 'pcap-filter(7) expression (the trailing words, as in tcpdump)', required: false }),
  }
  static override flags = {
    read: Flags.string({ char: 'r', description: 'file to read (- for standard input)', required: true, helpValue: 'FILE' }),
    ...outputFlags,
  }

  async run(): Promise<void> {
    const { flags, argv } = await this.parse(Read)
    const filter = (argv as string[]).join(' ').trim()
    if (filter !== '') throw new InvalidArgumentError(`filter expressions are not supported yet: '${filter}'`)
    const out = new TextOutput()
    const printer = flags.write ? undefined : new FramePrinter(out, {
      format: flags.format as OutputFormat, fields: flags.field, hex: flags.hex, nano: flags.nano,
    })
    const reader = await openCaptureFile(flags.read, { onWarning: (w) => process.stderr.write(`netkit read: warning: ${w}\n`) })
    let writer: CaptureWriter | undefined
    const openWriter = () => createCaptureWriter(flags.write as string, {
      format: flags['file-format'] as 'pcap' | 'pcapng',
      nanosecond: flags.nano,
      interfaces: reader.interfaces,
      linkType: reader.interfaces[0]?.linkType ?? 1,
    })
    let left = flags.count ?? Infinity
    try {
      if (flags.write && reader.format === 'pcap') writer = openWriter()
      for await (const batch of reader.batches()) {
        if (batch.count > left) batch.count = left
        left -= batch.count
        if (flags.write) {
          writer ??= openWriter()
          writer.writeBatch(batch, reader.interfaces)
        } else {
          printer!.writeBatch(batch)
          await out.ready()
          if (out.closed) break
        }
        if (left === 0) break
      }
      if (flags.write) writer ??= openWriter()
    } finally {
      writer?.close()
      await out.end()
      await reader.close()
    }
  }
}
