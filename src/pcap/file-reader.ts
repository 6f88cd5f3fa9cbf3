/**
 * CaptureFileReader: streams a pcap or pcapng file (or standard input) as RecordBatches. One
 * buffer, refilled in large reads; a batch references that buffer and is valid until the next
 * one is requested. Memory is bounded by the buffer (which grows only to the largest block the
 * file holds, capped), never by the file's size. Damage ends the stream with a FileFormatError
 * after every whole record before it has been delivered.
 */
import { FileFormatError } from '../errors.js'
import { openByteSource, type ByteSource } from './byte-source.js'
import { isPcapMagic, parsePcapHeader, PcapParser, type PcapHeader } from './pcap-parser.js'
import { BlockType, PcapngParser } from './pcapng-parser.js'
import { MAX_BLOCK_BYTES, type RecordParser } from './record-parser.js'
import { RecordBatch, type InterfaceInfo } from './record-batch.js'

/**
 * One turn of the event loop. A regular file's reads and mapped windows complete at once, so a
 * consumer awaiting batch after batch runs as one unbroken chain of microtasks, and Node runs
 * process.nextTick callbacks (a stream's per-write callbacks) and timers only when that chain
 * ends: they would pile up for the whole file. A turn per refill (a window or a buffer of the
 * file) lets them run.
 */
const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** A capture file format. */
export type CaptureFormat = 'pcap' | 'pcapng'

/** Options for opening a capture file. */
export interface ReadOptions {
  /** Records per batch (default 8192). */
  batchSize?: number
  /** Initial read buffer size in bytes (default 1 MiB). */
  bufferSize?: number
  /**
   * Deliver classic pcap records longer than the file's snaplen cut to it, as libpcap does
   * (for writing what tcpdump -w writes); by default they are delivered whole, as tshark shows them.
   */
  cutToSnaplen?: boolean
  /** Called once per kind of warning (e.g. a record longer than the snaplen). */
  onWarning?: (message: string) => void
}

/** A capture file open for reading. */
export class CaptureFileReader {
  /** Frames delivered so far. */
  delivered = 0

  private constructor(
    readonly path: string,
    readonly format: CaptureFormat,
    private readonly source: ByteSource,
    private readonly parser: RecordParser,
    private buf: Buffer,
    private end: number,
    private pos: number,
    private readonly options: ReadOptions,
    /** Classic pcap's file header (undefined for pcapng). */
    readonly pcapHeader?: PcapHeader,
  ) {}

  /** Opens `path` (`-` for stdin) and identifies its format from the magic number. */
  static async open(path: string, options: ReadOptions = {}): Promise<CaptureFileReader> {
    const source = await openByteSource(path)
    const buf = Buffer.allocUnsafe(Math.max(options.bufferSize ?? 1 << 20, 4096))
    let end = 0
    try {
      while (end < 24) {
        const n = await source.read(buf, end, buf.length - end)
        if (n === 0) break
        end += n
      }
      if (end === 0) throw new FileFormatError(path, 0, 'empty file: not a pcap or pcapng capture')
      if (end < 4) throw new FileFormatError(path, 0, `truncated file: ${end} bytes, too short for any capture file header`)
      const magic = buf.readUInt32LE(0)
      if (isPcapMagic(magic)) {
        if (end < 24) throw new FileFormatError(path, end, `truncated pcap file header: ${end} of 24 bytes`)
        const header = parsePcapHeader(buf, path)
        return new CaptureFileReader(path, 'pcap', source, new PcapParser(header, path, options.cutToSnaplen), buf, end, 24, options, header)
      }
      if (magic === BlockType.SHB) {
        return new CaptureFileReader(path, 'pcapng', source, new PcapngParser(path), buf, end, 0, options)
      }
      throw new FileFormatError(path, 0, `not a pcap or pcapng file (magic 0x${magic.toString(16).padStart(8, '0')})`)
    } catch (err) {
      await source.close().catch(() => {})
      throw err
    }
  }

  /** Interfaces seen so far (pcap: exactly one; pcapng: grows as IDBs are read). */
  get interfaces(): readonly InterfaceInfo[] {
    return this.parser.interfaces
  }

  /** The pcapng parser, for statistics blocks (undefined for classic pcap). */
  get pcapng(): PcapngParser | undefined {
    return this.parser instanceof PcapngParser ? this.parser : undefined
  }

  /** Streams the records. Each batch is valid until the next is requested. */
  async *batches(): AsyncGenerator<RecordBatch> {
    const batch = new RecordBatch(this.options.batchSize ?? 8192)
    const parser = this.parser
    let base = 0 // file offset of buf[0]
    let eof = false
    const warned = new Set<string>()
    try {
      for (;;) {
        batch.reset(this.buf, this.delivered + 1, parser.interfaces)
        this.pos = parser.parse(this.buf, this.pos, this.end, batch, base)
        if (parser.warnings.length > 0) {
          for (const w of parser.warnings) if (!warned.has(w)) { warned.add(w); this.options.onWarning?.(w) }
          parser.warnings.length = 0
        }
        if (batch.count > 0) {
          this.delivered += batch.count
          yield batch
        }
        if (parser.error) throw parser.error
        if (parser.need === 0) continue // the batch filled; more records are waiting in the buffer
        if (eof) {
          if (this.pos < this.end) {
            const have = this.end - this.pos
            throw new FileFormatError(this.path, base + this.pos,
              this.format === 'pcap'
                ? `file cut short in the middle of a record: ${have} of ${parser.need} bytes present`
                : `file cut short in the middle of a block: ${have} of ${parser.need} bytes present`)
          }
          return
        }
        await turn()
        // A mapped file: move the window to the unconsumed tail (no copy).
        const view = await this.source.view?.(base + this.pos, Math.min(parser.need, MAX_BLOCK_BYTES + 4096))
        if (view !== undefined) {
          this.buf = view.buf
          this.pos = view.pos
          this.end = view.end
          base = view.base
          eof = view.atEnd
          continue
        }
        // Make room: move the unconsumed tail to the front, grow (bounded) if one unit is larger.
        const tail = this.end - this.pos
        if (parser.need > this.buf.length) {
          const size = Math.min(Math.max(parser.need, this.buf.length * 2), MAX_BLOCK_BYTES + 4096)
          const bigger = Buffer.allocUnsafe(size)
          this.buf.copy(bigger, 0, this.pos, this.end)
          this.buf = bigger
        } else if (this.pos > 0) {
          this.buf.copy(this.buf, 0, this.pos, this.end)
        }
        base += this.pos
        this.pos = 0
        this.end = tail
        while (this.end < this.buf.length) {
          const n = await this.source.read(this.buf, this.end, this.buf.length - this.end)
          if (n === 0) { eof = true; break }
          this.end += n
          if (this.end - this.pos >= parser.need) break
        }
      }
    } finally {
      await this.close()
    }
  }

  /** Closes the source (safe to call twice). */
  async close(): Promise<void> {
    await this.source.close().catch(() => {})
  }
}

/** Opens a capture file for reading; see CaptureFileReader. */
export function openCaptureFile(path: string, options?: ReadOptions): Promise<CaptureFileReader> {
  return CaptureFileReader.open(path, options)
}
