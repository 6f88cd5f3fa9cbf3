/**
 * PacketOutput: where `read` and `capture` send the packets they keep: dissected once (when a
 * printer or a display filter needs it), selected by the display filter (`-Y`), then printed in
 * a `-T` format or written to a file with `-w`. One place, so both commands behave alike.
 */
import { DissectionEngine, mergeNeeds } from '../dissect/engine.js'
import { PacketSelector, type PacketPredicate } from '../dissect/packet-selector.js'
import type { DissectorRegistry } from '../dissect/registry.js'
import { PacketPrinter, type OutputFormat } from '../format/packet-printer.js'
import { TextOutput } from '../format/output.js'
import { RecordKind, type InterfaceInfo, type RecordBatch } from '../pcap/record-batch.js'
import { createCaptureWriter, type CaptureWriter } from '../pcap/writer.js'

/** The output flags both commands take. */
export interface PacketOutputOptions {
  format: OutputFormat
  fields?: string[]
  hex?: boolean
  write?: string
  fileFormat?: 'pcap' | 'pcapng'
  nano?: boolean
  /** Link-type extension bits of the pcap file read, kept in the pcap file written. */
  linkTypeExt?: number
}

/** Prints or writes batches of packets. */
export class PacketOutput {
  /** Packets printed or written. */
  packets = 0
  private writer: CaptureWriter | undefined
  private readonly printer: PacketPrinter | undefined
  /** Dissection for the printer (and the filter, tested on the same dissection). */
  private readonly engine: DissectionEngine | undefined
  /** The filter alone, when the packets are written (-w) rather than printed. */
  private readonly selector: PacketSelector | undefined
  private readonly text = new TextOutput()

  constructor(
    private readonly options: PacketOutputOptions,
    private interfaces: () => readonly InterfaceInfo[],
    registry?: DissectorRegistry,
    private readonly filter?: PacketPredicate,
  ) {
    if (!options.write) {
      this.printer = new PacketPrinter(this.text, { format: options.format, fields: options.fields, hex: options.hex, nano: options.nano }, registry)
    }
    const printing = this.printer?.needs
    if (registry && this.printer && (printing || filter)) {
      this.engine = new DissectionEngine(registry, mergeNeeds(printing, filter && { fields: filter.fields }))
    } else if (registry && filter) {
      this.selector = new PacketSelector(registry, filter)
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
        linkTypeExt: this.options.linkTypeExt,
      })
    }
  }

  /**
   * Prints or writes the batch's records (only those with select[i] !== 0 when given, and only
   * those the display filter matches), at most `limit` of them; returns how many.
   */
  async write(batch: RecordBatch, select?: Uint8Array, limit = Infinity): Promise<number> {
    let n: number
    if (this.engine !== undefined) n = this.printDissected(batch, this.engine, select, limit)
    else if (this.selector !== undefined) {
      n = this.selector.apply(batch, select, limit)
      this.writeRecords(batch, this.selector.select)
    } else n = this.writeRecords(batch, select, limit)
    this.packets += n
    if (!this.options.write) await this.text.ready()
    return n
  }

  /**
   * The records as they are (those selected, at most `limit`); returns how many. A pcap file has
   * no place for records that are not packets (pcapng custom blocks): they are neither written
   * nor counted towards the limit, as with tcpdump -c N -w.
   */
  private writeRecords(batch: RecordBatch, select: Uint8Array | undefined, limit = Infinity): number {
    const dropsRecords = this.options.write !== undefined && (this.options.fileFormat ?? 'pcap') === 'pcap'
    let n = 0
    if (select === undefined && !dropsRecords) {
      if (batch.count > limit) batch.count = limit
      n = batch.count
    } else {
      for (let i = 0; i < batch.count; i++) {
        if (select !== undefined && select[i] === 0) continue
        if (dropsRecords && batch.kind[i] !== RecordKind.packet) continue
        if (n < limit) n++
        else if (select !== undefined) select[i] = 0
        else { batch.count = i; break }
      }
    }
    if (this.options.write) {
      this.open()
      this.writer!.writeBatch(batch, batch.interfaces, select)
    } else this.printer!.printRecords(batch, select)
    return n
  }

  /** Each record dissected once, tested by the filter on that dissection, then printed. */
  private printDissected(batch: RecordBatch, engine: DissectionEngine, select: Uint8Array | undefined, limit: number): number {
    const filter = this.filter
    const printer = this.printer!
    let n = 0
    for (let i = 0; i < batch.count && n < limit; i++) {
      if (select !== undefined && select[i] === 0) continue
      const isPacket = batch.kind[i] === RecordKind.packet
      const packet = isPacket ? engine.dissect(batch, i) : engine.clear()
      // A record that is not a packet (a pcapng custom block) has no fields to match.
      if (filter !== undefined && !(isPacket && filter.match(packet))) continue
      n++
      printer.print(batch, i, isPacket ? packet : undefined)
    }
    return n
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
