/**
 * What `netkit read` does once its flags are parsed, without oclif: the oclif command
 * (commands/read.ts) and bin/run.js's fast path (fast-path.ts) both call runRead. Modules only
 * some runs need (the dissectors, the pcap-filter compiler) are imported when a run needs them,
 * so that a small read starts quickly.
 */
import { loadConfig } from '../config.js'
import { withDissectionFlags } from '../dissect/preferences.js'
import type { OutputFormat } from '../format/packet-printer.js'
import { openCaptureFile } from '../pcap/file-reader.js'

/** The flags of `netkit read`, as oclif's parse() gives them. */
export interface ReadFlags {
  read: string
  count?: number
  format: string
  field?: string[]
  hex?: boolean
  write?: string
  'file-format': string
  nano?: boolean
  'display-filter'?: string
  config?: string
  'decode-as'?: string[]
  preference?: string[]
}

/** Runs `netkit read` with these flags and pcap-filter expression ('' for none). */
export async function runRead(flags: ReadFlags, filter: string): Promise<void> {
  // A broken configuration, -d rule or -o setting is reported before any work starts.
  const config = withDissectionFlags(await loadConfig(flags.config), flags)
  const { PacketOutput } = await import('./packet-output.js')
  const { needsDissection } = await import('../format/packet-printer.js')
  const print = { format: flags.format as OutputFormat, fields: flags.field, hex: flags.hex, nano: flags.nano }
  const displayFilter = flags['display-filter']
  const { registry, filter: dfilter } = (!flags.write && needsDissection(print)) || displayFilter !== undefined
    ? await (await import('./dissection.js')).loadDissection('read', config, displayFilter)
    : { registry: undefined, filter: undefined }
  const reader = await openCaptureFile(flags.read, {
    onWarning: (w) => process.stderr.write(`netkit read: warning: ${w}\n`),
    cutToSnaplen: flags.write !== undefined, // what is written is what libpcap (tcpdump -w) writes
  })
  const output = new PacketOutput({
    format: flags.format as OutputFormat,
    fields: flags.field,
    hex: flags.hex,
    write: flags.write,
    fileFormat: flags['file-format'] as 'pcap' | 'pcapng',
    nano: flags.nano,
    linkTypeExt: reader.pcapHeader?.linkTypeExt,
  }, () => reader.interfaces, registry, dfilter)
  // Compile before any output so a bad expression is one error line and nothing else.
  const bpf = filter === '' ? undefined : new (await import('../filter/batch-filter.js')).BatchFilter(filter, reader.interfaces[0]?.linkType)
  // Runs of records go from the read buffer to the -w file with the addon's writev (file-sink.ts).
  if (flags.write !== undefined) await (await import('../pcap/file-sink.js')).loadRangeWriter()
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
