/**
 * PacketOutput: where `read` and `capture` send the packets they keep: printed in a `-T`
 * format, or written to a file with `-w`. One place, so both commands behave alike.
 */
import type { DissectorRegistry } from '../dissect/registry.js'
import { PacketPrinter, type OutputFormat } from '../format/packet-printer.js'
import { TextOutput } from '../format/output.js'
import type { InterfaceInfo, RecordBatch } from '../pcap/record-batch.js'
import { createCaptureWriter, type CaptureWriter } from '../pcap/writer.js'

/** The output flags both commands take. */
export interface PacketOutputOptions {
  format: OutputFormat
  fields?: string[]
  hex?: boolean
  write?: string
  fileFormat?: 'pcap' | 'pcapng'
  nano?: boolean
}

/** Prints or writes batches of packets. */
export class PacketOutput {
  /** Packets printed or written. */
  packets = 0
  private writer: CaptureWriter | undefined
  private readonly printer: PacketPrinter | undefined
  private readonly text = new TextOutput()

  constructor(private readonly options: PacketOutputOptions, private interfaces: () => readonly InterfaceInfo[], registry?: DissectorRegistry) {
    if (!options.write) {
      this.printer = new PacketPrinter(this.text, { format: options.format, fields: options.fields, hex: options.hex, nano: options.nano }, registry)
    }
  }

  /** True when the reader of stdout went away: stop producing. */
  get closed(): boolean {
    return this.text.closed
  }

  /** The file being written, once open. */
  get file(): CaptureWriter | undefined {
    return this.writer
  }

  /** Opens the -w file now (when the link type is already known), so it exists even if no packet comes. */
  open(): void {
    if (this.options.write && !this.writer) {
      const ifs = this.interfaces()
      this.writer = createCaptureWriter(this.options.write, {
        format: this.options.fileFormat ?? 'pcap',
        nanosecond: this.options.nano,
        interfaces: ifs,
        linkType: ifs[0]?.linkType ?? 1,
      })
    }
  }

  /** Prints or writes the batch's records (only those with select[i] !== 0 when given). */
  async write(batch: RecordBatch, select?: Uint8Array): Promise<void> {
    if (this.options.write) {
      this.open()
      this.writer!.writeBatch(batch, batch.interfaces, select)
    } else {
      this.printer!.writeBatch(batch, select)
      await this.text.ready()
    }
    if (select === undefined) this.packets += batch.count
    else for (let i = 0; i < batch.count; i++) this.packets += select[i] === 0 ? 0 : 1
  }

  /** Hands buffered packets to the kernel (live capture calls this between batches). */
  flush(): void {
    this.writer?.flush()
  }

  /** Finishes: the file is complete and closed, the text flushed. */
  async close(): Promise<void> {
    try {
      this.open()
      this.writer?.close()
    } finally {
      await this.text.end()
    }
  }
}
