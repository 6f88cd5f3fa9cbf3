/**
 * FramePrinter: prints records in the `read`/`capture` output formats at the frame level (before
 * dissection): `text` (one line per packet), `fields` (tshark -T fields), `ndjson`, and tcpdump's
 * -x hex dump. Field lookups are resolved once, up front; nothing is looked up per packet.
 */
import { InvalidArgumentError } from '../errors.js'
import { linkHeaderLength } from '../pcap/link-types.js'
import { RecordKind, type RecordBatch } from '../pcap/record-batch.js'
import { formatEpoch, formatTimeOfDay, frameFields, type FieldGetter } from './frame-fields.js'
import { hexDump } from './hex.js'
import type { TextOutput } from './output.js'

/** Output formats of `-T`. */
export const OUTPUT_FORMATS = ['text', 'verbose', 'fields', 'ndjson'] as const
/** One of OUTPUT_FORMATS. */
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/** Options for a FramePrinter. */
export interface PrintOptions {
  format: OutputFormat
  /** `-e` field names, for `fields`. */
  fields?: string[]
  /** `-x`: hex of each packet after its line (link header omitted, as tcpdump -x). */
  hex?: boolean
  /** Nanosecond time of day in `text`. */
  nano?: boolean
}

/** Prints batches of records. */
export class FramePrinter {
  private readonly getters: FieldGetter[]

  constructor(private readonly out: TextOutput, private readonly options: PrintOptions) {
    const names = options.fields ?? []
    if (options.format === 'fields' && names.length === 0) {
      throw new InvalidArgumentError('-T fields needs at least one -e FIELD (e.g. -e frame.number -e frame.len)')
    }
    if (options.format !== 'fields' && names.length > 0) {
      throw new InvalidArgumentError('-e FIELD works with -T fields only')
    }
    this.getters = names.map((name) => {
      const g = frameFields[name]
      if (!g) throw new InvalidArgumentError(`unknown field '${name}' (known: ${Object.keys(frameFields).join(', ')})`)
      return g
    })
  }

  /** Prints the records of `batch` whose select[i] is non-zero (all when `select` is absent). */
  writeBatch(batch: RecordBatch, select?: Uint8Array): void {
    const out = this.out
    const { format, hex } = this.options
    for (let i = 0; i < batch.count; i++) {
      if (select !== undefined && select[i] === 0) continue
      let line: string
      switch (format) {
        case 'fields': line = this.fieldsLine(batch, i); break
        case 'ndjson': line = this.ndjsonLine(batch, i); break
        default: line = this.textLine(batch, i)
      }
      out.write(line)
      if (hex) {
        const off = batch.offset[i]
        const skip = batch.kind[i] === RecordKind.packet ? Math.min(linkHeaderLength(batch.linkType[i]), batch.capLen[i]) : 0
        out.write(hexDump(batch.data, off + skip, off + batch.capLen[i]))
      }
    }
  }

  private fieldsLine(batch: RecordBatch, i: number): string {
    const g = this.getters
    let line = g[0](batch, i)
    for (let k = 1; k < g.length; k++) line += '\t' + g[k](batch, i)
    return line + '\n'
  }

  private ndjsonLine(batch: RecordBatch, i: number): string {
    const epoch = formatEpoch(batch.tsSec[i], batch.tsNsec[i])
    const iface = batch.iface[i]
    return `{"frame":{"number":${batch.firstNumber + i},"time_epoch":${epoch === '' ? 'null' : epoch},` +
      `"len":${batch.origLen[i]},"cap_len":${batch.capLen[i]}${iface >= 0 ? `,"interface_id":${iface}` : ''}}}\n`
  }

  private textLine(batch: RecordBatch, i: number): string {
    const t = formatTimeOfDay(batch.tsSec[i], batch.tsNsec[i], this.options.nano)
    if (batch.kind[i] !== RecordKind.packet) return `${t} pcapng custom block, length ${batch.capLen[i]}\n`
    const cap = batch.capLen[i] < batch.origLen[i] ? ` (captured ${batch.capLen[i]})` : ''
    return `${t} length ${batch.origLen[i]}${cap}\n`
  }
}
