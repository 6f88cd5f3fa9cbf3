/**
 * CaptureWriter: what `read -w` and `capture -w` write through, whichever the format.
 */
import { InvalidArgumentError } from '../errors.js'
import { FileSink } from './file-sink.js'
import { PcapWriter } from './pcap-writer.js'
import { PcapngWriter } from './pcapng-writer.js'
import type { InterfaceInfo, RecordBatch } from './record-batch.js'

/** A capture file being written. */
export interface CaptureWriter {
  /** Path written (or `-`). */
  readonly path: string
  /** Packets written so far. */
  packets: number
  /** Captured bytes written so far (packet data only). */
  bytes: number
  /** File size so far, headers included. */
  readonly fileBytes: number
  /** Appends the batch's records (only those with select[i] !== 0, when `select` is given). */
  writeBatch(batch: RecordBatch, interfaces: readonly InterfaceInfo[], select?: Uint8Array): void
  /** Hands buffered records to the kernel (the file is then valid up to here). */
  flush(): void
  /** Flushes and closes. */
  close(): void
  /**
   * Flushes and lends the file's descriptor to another writer that appends whole records (live
   * capture's writer thread); throws for stdout. adopt() then counts what that writer appended.
   */
  lendFd(): number
  /** Counts records appended through the lent descriptor. */
  adopt(packets: number, capturedBytes: number, fileBytes: number): void
}

/** Options for createCaptureWriter. */
export interface WriterOptions {
  format?: 'pcap' | 'pcapng'
  nanosecond?: boolean
  /** Link type and snaplen of a classic pcap file; taken from `interfaces[0]` when absent. */
  linkType?: number
  snaplen?: number
  /** Upper six bits of a classic pcap link-type word read from a file (see PcapHeader.linkTypeExt). */
  linkTypeExt?: number
  /** Interfaces known up front. */
  interfaces?: readonly InterfaceInfo[]
  /** Sink buffer size (default 1 MiB: one write() per MiB). */
  bufferSize?: number
}

/** Creates (truncates) `path` (`-` for stdout) and returns a writer for the format. */
export function createCaptureWriter(path: string, options: WriterOptions): CaptureWriter {
  const format = options.format ?? 'pcap'
  if (format !== 'pcap' && format !== 'pcapng') {
    throw new InvalidArgumentError(`unknown capture file format '${String(format)}' (use pcap or pcapng)`)
  }
  const linkType = options.linkType ?? options.interfaces?.[0]?.linkType
  if (format === 'pcap' && linkType === undefined) {
    throw new InvalidArgumentError('a pcap file needs a link type')
  }
  const sink = FileSink.create(path, options.bufferSize)
  if (format === 'pcapng') {
    return new PcapngWriter(sink, { nanosecond: options.nanosecond, interfaces: options.interfaces, application: 'netkit' })
  }
  return new PcapWriter(sink, {
    linkType: linkType as number,
    snaplen: options.snaplen ?? options.interfaces?.[0]?.snaplen,
    nanosecond: options.nanosecond,
    linkTypeExt: options.linkTypeExt,
  })
}
