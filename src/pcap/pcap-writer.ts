/**
 * The classic libpcap writer: µs or ns magic, the host's byte order (as libpcap writes), one
 * link type per file. Records are appended into the sink's buffer; no write() per packet.
 * See: pcap-savefile(5).
 */
import { InvalidArgumentError } from '../errors.js'
import { FileSink } from './file-sink.js'
import { RecordKind, RecordLayout, type InterfaceInfo, type RecordBatch } from './record-batch.js'
import { libpcapSnaplen } from './link-types.js'
import { SinkWriter } from './sink-writer.js'
import type { CaptureWriter } from './writer.js'

/** Options for a classic pcap file. */
export interface PcapWriterOptions {
  linkType: number
  snaplen?: number
  nanosecond?: boolean
  /** Upper six bits of the header's link-type word (FCS length etc.), kept from a pcap file read. */
  linkTypeExt?: number
}

/**
 * Without the addon's writev (FileSink.writeRanges), runs of copied records shorter than this are
 * gathered in the sink's buffer; longer ones go to the kernel straight from the reader's buffer
 * (one write, no copy).
 */
const DIRECT_RUN_BYTES = 64 * 1024

/** Writes a classic pcap file. */
export class PcapWriter extends SinkWriter implements CaptureWriter {
  private readonly nano: boolean
  /** The RecordLayout whose records this file takes as they are. */
  private readonly layout: number
  /** copyRuns' list of runs, [start, end) pairs (grown to twice the largest batch's capacity). */
  private runs = new Uint32Array(0)

  constructor(sink: FileSink, private readonly options: PcapWriterOptions) {
    super(sink)
    this.nano = options.nanosecond ?? false
    this.layout = this.nano ? RecordLayout.pcapNano : RecordLayout.pcapMicro
    const { buf, at } = sink.reserve(24)
    buf.writeUInt32LE(this.nano ? 0xa1b23c4d : 0xa1b2c3d4, at)
    buf.writeUInt16LE(2, at + 4)
    buf.writeUInt16LE(4, at + 6)
    buf.writeInt32LE(0, at + 8) // thiszone
    buf.writeUInt32LE(0, at + 12) // sigfigs
    buf.writeUInt32LE(libpcapSnaplen(options.linkType, options.snaplen ?? 0), at + 16)
    buf.writeUInt32LE((options.linkType | (options.linkTypeExt ?? 0)) >>> 0, at + 20)
  }

  writeBatch(batch: RecordBatch, interfaces: readonly InterfaceInfo[], select?: Uint8Array): void {
    if (batch.layout === this.layout && batch.count > 0 && batch.linkType[0] === this.options.linkType) {
      this.copyRuns(batch, select)
      return
    }
    const data = batch.data
    for (let i = 0; i < batch.count; i++) {
      if (select !== undefined && select[i] === 0) continue
      if (batch.kind[i] !== RecordKind.packet) continue // pcap has no place for custom blocks
      if (batch.linkType[i] !== this.options.linkType) {
        throw new InvalidArgumentError(`${this.sink.path}: packets of more than one link type (${this.options.linkType} and ${batch.linkType[i]}) cannot share a pcap file; use -F pcapng`)
      }
      this.writeRecord(data, batch.offset[i], batch.capLen[i], batch.origLen[i], batch.tsSec[i], batch.tsNsec[i])
    }
    void interfaces
  }

  /**
   * Writes the selected records of a batch laid out as this file's records are (classic pcap,
   * little-endian, the same time unit and link type: one file's records, back to back): each run
   * of consecutive selected records is one range of the batch's buffer, header and data as they
   * are, so nothing is rewritten. A record delivered shorter than its header says (cut to the
   * snaplen) is rewritten alone.
   */
  private copyRuns(batch: RecordBatch, select: Uint8Array | undefined): void {
    const { data, offset, capLen } = batch
    if (this.runs.length < 2 * batch.count) this.runs = new Uint32Array(2 * batch.capacity)
    const runs = this.runs
    let n = 0 // runs gathered: runs[2k, 2k + 1] is data[start, end) of run k
    let end = -1 // end of the last run
    let packets = 0
    let bytes = 0
    for (let i = 0; i < batch.count; i++) {
      if (select !== undefined && select[i] === 0) continue
      const off = offset[i]
      const len = capLen[i]
      if (data.readUInt32LE(off - 8) === len) {
        if (off - 16 !== end) runs[2 * n++] = off - 16
        end = off + len
        runs[2 * n - 1] = end
        packets++
        bytes += len
        continue
      }
      if (n > 0) this.sink.writeRanges(data, runs, n, DIRECT_RUN_BYTES)
      n = 0
      end = -1
      this.writeRecord(data, off, len, batch.origLen[i], batch.tsSec[i], batch.tsNsec[i])
    }
    if (n > 0) this.sink.writeRanges(data, runs, n, DIRECT_RUN_BYTES)
    this.packets += packets
    this.bytes += bytes
  }

  /** Whether record timestamps are in nanoseconds (else microseconds). */
  get nanosecond(): boolean {
    return this.nano
  }

  /** Appends one record. A missing timestamp (NaN seconds) is written as 0. */
  writeRecord(data: Buffer, offset: number, capLen: number, origLen: number, sec: number, nsec: number): void {
    const { buf, at } = this.sink.reserve(16 + capLen)
    buf.writeUInt32LE(Number.isNaN(sec) ? 0 : sec >>> 0, at)
    buf.writeUInt32LE(this.nano ? nsec : Math.floor(nsec / 1000), at + 4)
    buf.writeUInt32LE(capLen, at + 8)
    buf.writeUInt32LE(origLen, at + 12)
    data.copy(buf, at + 16, offset, offset + capLen)
    this.packets++
    this.bytes += capLen
  }
}
