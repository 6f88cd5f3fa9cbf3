/**
 * The contract between the file reader's chunk loop and a format's record parser. A parser works
 * on a window of bytes, fills a batch, and says how many more bytes it needs or what is damaged;
 * it never reads from a source itself, so one loop serves every format.
 */
import type { FileFormatError } from '../errors.js'
import type { InterfaceInfo, RecordBatch } from './record-batch.js'

/** A format's record parser (classic pcap, pcapng). */
export interface RecordParser {
  /** Interfaces known so far (pcapng adds them as IDBs arrive). */
  readonly interfaces: InterfaceInfo[]
  /** After parse(): bytes needed from the returned position to go on (0 when the batch filled). */
  need: number
  /** After parse(): set when the bytes at the returned position are damaged; parsing must stop. */
  error: FileFormatError | null
  /** Warnings worth one line on stderr (the reader reports each kind once). */
  warnings: string[]
  /**
   * Parses records from buf[pos, end) into `batch` (until it is full or the bytes run out) and
   * returns the position after the last whole unit consumed. `base` is buf[0]'s file offset.
   */
  parse(buf: Buffer, pos: number, end: number, batch: RecordBatch, base: number): number
}

/** Largest record or block netkit accepts: bounds memory on hostile files (Wireshark's limit is 16 MiB + slack too). */
export const MAX_BLOCK_BYTES = 16 * 1024 * 1024 + 4096

/** Largest captured length accepted in a classic pcap file (Wireshark: WTAP_MAX_PACKET_SIZE_STANDARD). */
export const MAX_STANDARD_CAPLEN = 262144
