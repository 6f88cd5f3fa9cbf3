/**
 * The classic libpcap writer: µs or ns magic, the host's byte order (as libpcap writes), one
 * link type per file. Records are appended into the sink's buffer; no write() per packet.
 * See: pcap-savefile(5).
 */
import { InvalidArgumentError } from '../errors.js'
import { FileSink } from './file-sink.js'
import { RecordKind, type InterfaceInfo, type RecordBatch } from './record-batch.js'
import { SinkWriter } from './sink-writer.js'
import type { CaptureWriter } from './writer.js'

/** Options for a classic pcap file. */
export interface PcapWriterOptions {
  linkType: number
  snaplen?: number
  nanosecond?: boolean
}

/** Writes a classic pcap file. */
export class PcapWriter extends SinkWriter implements CaptureWriter {
  private readonly nano: boolean

  constructor(sink: FileSink, private readonly options: PcapWriterOptions) {
    super(sink)
    this.nano = options.nanosecond ?? false
    const { buf, at } = sink.reserve(24)
    buf.writeUInt32LE(this.nano ? 0xa1b23c4d : 0xa1b2c3d4, at)
    buf.writeUInt16LE(2, at + 4)
    buf.writeUInt16LE(4, at + 6)
    buf.writeInt32LE(0, at + 8) // thiszone
    buf.writeUInt32LE(0, at + 12) // sigfigs
    buf.writeUInt32LE(options.snaplen || 262144, at + 16)
    buf.writeUInt32LE(options.linkType, at + 20)
  }

  writeBatch(batch: RecordBatch, interfaces: readonly InterfaceInfo[], select?: Uint8Array): void {
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
