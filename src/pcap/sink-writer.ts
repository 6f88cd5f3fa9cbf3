/**
 * What the pcap and pcapng writers share: a FileSink they append whole records to, the counters,
 * and lending the file's descriptor to a writer outside (live capture's writer thread).
 */
import type { FileSink } from './file-sink.js'

/** A capture file writer over a FileSink. */
export abstract class SinkWriter {
  /** Packets written so far. */
  packets = 0
  /** Captured bytes written so far (packet data only). */
  bytes = 0

  constructor(protected readonly sink: FileSink) {}

  get path(): string {
    return this.sink.path
  }

  /** Bytes written to the file, headers included (flushed or buffered). */
  get fileBytes(): number {
    return this.sink.committed + this.sink.pending
  }

  /**
   * Appends records already laid out for this file (its format, byte order and time unit), e.g.
   * as live capture lays them out: one copy for many records.
   */
  appendRecords(records: Uint8Array, packets: number, capturedBytes: number): void {
    this.sink.write(records)
    this.packets += packets
    this.bytes += capturedBytes
  }

  /** Hands buffered records to the kernel (the file is then valid up to here). */
  flush(): void {
    this.sink.flush()
  }

  /** Flushes and lends the file's descriptor to a writer that appends whole records. */
  lendFd(): number {
    return this.sink.lendFd()
  }

  /** Counts records appended through the lent descriptor. */
  adopt(packets: number, capturedBytes: number, fileBytes: number): void {
    this.packets += packets
    this.bytes += capturedBytes
    this.sink.adopt(fileBytes)
  }

  /** Flushes and closes. */
  close(): void {
    this.sink.close()
  }
}
