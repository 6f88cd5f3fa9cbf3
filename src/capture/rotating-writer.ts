/**
 * RotatingWriter: `capture -w` with tcpdump's file rotation (tcpdump(1): -C, -G, -W). Without
 * rotation it is one CaptureWriter; with it, the batch is cut at the packets where a new file
 * starts, and each piece is written whole (no per-packet write calls).
 */
import { InvalidArgumentError } from '../errors.js'
import type { InterfaceInfo, RecordBatch } from '../pcap/record-batch.js'
import { PcapWriter } from '../pcap/pcap-writer.js'
import { PcapngWriter } from '../pcap/pcapng-writer.js'
import { createCaptureWriter, type CaptureWriter } from '../pcap/writer.js'
import { layoutHeaderBytes, type RecordLayout } from './live-capture.js'

/** Bytes of ring records handed to the file at a time (the sink's buffer size). */
const APPEND_PIECE = 1 << 20

/** What RotatingWriter takes. */
export interface RotationOptions {
  /** -w FILE; with -G it is a strftime(3) pattern. */
  path: string
  format: 'pcap' | 'pcapng'
  nanosecond?: boolean
  interfaces: readonly InterfaceInfo[]
  /** -G: start a new file every this many seconds. */
  rotateSeconds?: number
  /** -C: start a new file once the current one is larger than this many bytes. */
  fileSizeBytes?: number
  /** -W: with -C, cycle through this many files; with -G alone, stop after this many. */
  fileCount?: number
  /** The batches' byte layout (LiveCapture.recordLayout): pcap records are appended as runs. */
  batchLayout?: RecordLayout
}

/** Digits tcpdump pads file numbers to with -W N (enough for N - 1). */
function countDigits(fileCount: number | undefined): number {
  let digits = 0
  for (let x = (fileCount ?? 0) - 1; x > 0; x = Math.floor(x / 10)) digits++
  return digits
}

const pad2 = (n: number): string => String(n).padStart(2, '0')

/** Expands the strftime(3) conversions tcpdump users put in -G names (local time). */
export function strftime(pattern: string, date: Date): string {
  return pattern.replace(/%([%YymdHMSsjFTe])/g, (_, c: string) => {
    switch (c) {
      case '%': return '%'
      case 'Y': return String(date.getFullYear())
      case 'y': return pad2(date.getFullYear() % 100)
      case 'm': return pad2(date.getMonth() + 1)
      case 'd': return pad2(date.getDate())
      case 'e': return String(date.getDate()).padStart(2, ' ')
      case 'H': return pad2(date.getHours())
      case 'M': return pad2(date.getMinutes())
      case 'S': return pad2(date.getSeconds())
      case 's': return String(Math.floor(date.getTime() / 1000))
      case 'j': {
        const start = new Date(date.getFullYear(), 0, 1)
        return String(Math.floor((date.getTime() - start.getTime()) / 86_400_000) + 1).padStart(3, '0')
      }
      case 'F': return `${date.getFullYear()}-${pad2(date.getMonth() + 1)}-${pad2(date.getDate())}`
      default: return `${pad2(date.getHours())}:${pad2(date.getMinutes())}:${pad2(date.getSeconds())}` // T
    }
  })
}

/** Writes capture files, starting new ones as -C/-G/-W say. */
export class RotatingWriter {
  /** Every file opened, in order (a name appears again when -W cycles). */
  readonly files: string[] = []
  /** Packets written over all files. */
  packets = 0
  /** True once -G -W's file limit is reached: the capture should stop. */
  done = false
  private writer: CaptureWriter
  private sizeCount = 0
  private timeCount = 0
  private sliceStart: number
  private select: Uint8Array | undefined
  private closed = false
  private readonly digits: number

  constructor(private readonly o: RotationOptions, now = Date.now() / 1000) {
    if (o.rotateSeconds !== undefined && !(o.rotateSeconds > 0)) throw new InvalidArgumentError(`-G needs a positive number of seconds (got ${o.rotateSeconds})`)
    if (o.fileSizeBytes !== undefined && !(o.fileSizeBytes > 0)) throw new InvalidArgumentError(`-C needs a positive size (got ${o.fileSizeBytes})`)
    if (o.fileCount !== undefined && (!Number.isInteger(o.fileCount) || o.fileCount < 1)) throw new InvalidArgumentError(`-W needs a positive whole number (got ${o.fileCount})`)
    if (o.fileCount !== undefined && o.rotateSeconds === undefined && o.fileSizeBytes === undefined) throw new InvalidArgumentError('-W needs -C or -G')
    if (o.path === '-' && (o.rotateSeconds !== undefined || o.fileSizeBytes !== undefined)) throw new InvalidArgumentError('-C and -G need a file name with -w, not -')
    this.digits = o.fileSizeBytes !== undefined ? countDigits(o.fileCount) : 0
    this.sliceStart = now
    this.writer = this.openFile(now)
  }

  /** The file being written now. */
  get current(): string {
    return this.files[this.files.length - 1]
  }

  private name(now: number): string {
    const base = this.o.rotateSeconds !== undefined ? strftime(this.o.path, new Date(now * 1000)) : this.o.path
    // tcpdump's MakeFilename: the bare name for the first file unless -W asks for numbers.
    if (this.o.fileSizeBytes === undefined || (this.sizeCount === 0 && this.digits === 0)) return base
    return base + String(this.sizeCount).padStart(this.digits, '0')
  }

  private openFile(now: number): CaptureWriter {
    const path = this.name(now)
    this.files.push(path)
    return createCaptureWriter(path, {
      format: this.o.format,
      nanosecond: this.o.nanosecond,
      interfaces: this.o.interfaces,
      linkType: this.o.interfaces[0].linkType,
      snaplen: this.o.interfaces[0].snaplen,
    })
  }

  private rotate(now: number, byTime: boolean): void {
    this.writer.close()
    if (byTime) {
      this.timeCount++
      if (this.o.fileCount !== undefined && this.o.fileSizeBytes === undefined && this.timeCount >= this.o.fileCount) {
        this.done = true
        return
      }
      this.sliceStart += Math.floor((now - this.sliceStart) / this.o.rotateSeconds!) * this.o.rotateSeconds!
      this.sizeCount = 0
    } else {
      this.sizeCount++
      if (this.o.fileCount !== undefined && this.sizeCount >= this.o.fileCount) this.sizeCount = 0
    }
    this.writer = this.openFile(now)
  }

  /** Bytes a record of `capLen` adds to the file (pcap record header, or a pcapng EPB). */
  private recordBytes(capLen: number): number {
    return this.o.format === 'pcap' ? 16 + capLen : 32 + ((capLen + 3) & ~3)
  }

  /** Writes the batch; returns how many of its packets were written (fewer once `done`). */
  writeBatch(batch: RecordBatch): number {
    if (this.done) return 0
    const { rotateSeconds, fileSizeBytes } = this.o
    if (rotateSeconds === undefined && fileSizeBytes === undefined) return this.writeRun(batch, 0, batch.count)
    // Cut the batch where a new file starts and write each run.
    let size = this.writer.fileBytes
    let runStart = 0
    let written = 0
    for (let i = 0; i < batch.count; i++) {
      const ts = batch.tsSec[i]
      const byTime = rotateSeconds !== undefined && ts >= this.sliceStart + rotateSeconds
      const bySize = !byTime && fileSizeBytes !== undefined && size > fileSizeBytes
      if (byTime || bySize) {
        written += this.writeRun(batch, runStart, i)
        runStart = i
        this.rotate(byTime ? ts : this.sliceStart, byTime)
        if (this.done) return written
        size = this.writer.fileBytes
      }
      size += this.recordBytes(batch.capLen[i])
    }
    written += this.writeRun(batch, runStart, batch.count)
    return written
  }

  /** Writes records [from, to) of the batch. */
  private writeRun(batch: RecordBatch, from: number, to: number): number {
    if (to <= from) return 0
    const w = this.writer
    const layout = this.o.batchLayout
    const pcap = w instanceof PcapWriter && (layout === 'pcap-ns' || layout === 'pcap-us') && w.nanosecond === (layout === 'pcap-ns')
    // EPBs name interface 0: the one interface this writer was created with.
    const pcapng = w instanceof PcapngWriter && (layout === 'pcapng-ns' || layout === 'pcapng-us') && w.nanosecond === (layout === 'pcapng-ns')
    if (pcap || pcapng) {
      // The ring laid the records out already: hand them over in pieces of about a MiB that end
      // on record boundaries (the sink writes big pieces without a copy, and if the disk fills,
      // the file keeps every whole piece written).
      const header = layoutHeaderBytes(layout!)
      const data = batch.data
      let start = from
      let bytes = 0
      for (let i = from; i < to; i++) {
        const capLen = batch.capLen[i]
        bytes += capLen
        const end = batch.offset[i] + (pcapng ? ((capLen + 3) & ~3) + 4 : capLen)
        const begin = batch.offset[start] - header
        if (end - begin >= APPEND_PIECE || i === to - 1) {
          (w as PcapWriter | PcapngWriter).appendRecords(data.subarray(begin, end), i + 1 - start, bytes)
          start = i + 1
          bytes = 0
        }
      }
    } else if (from === 0 && to === batch.count) {
      w.writeBatch(batch, batch.interfaces)
    } else {
      if (!this.select || this.select.length < batch.count) this.select = new Uint8Array(batch.capacity)
      const sel = this.select
      sel.fill(0, 0, batch.count)
      sel.fill(1, from, to)
      w.writeBatch(batch, batch.interfaces, sel)
    }
    this.packets += to - from
    return to - from
  }

  /**
   * Lends the current file's descriptor to `write` (which appends whole records, as live capture's
   * writer thread does) and counts what it reports; not with rotation, not for stdout.
   */
  async writeThrough<T extends { packets: number; capturedBytes: number; fileBytes: number }>(write: (fd: number, fileBytes: number) => Promise<T>): Promise<T> {
    if (this.o.rotateSeconds !== undefined || this.o.fileSizeBytes !== undefined) throw new InvalidArgumentError('writeThrough: not with -C or -G')
    const w = this.writer
    const start = w.fileBytes
    const fd = w.lendFd()
    const result = await write(fd, start)
    w.adopt(result.packets, result.capturedBytes, result.fileBytes - start)
    this.packets += result.packets
    return result
  }

  /** Hands buffered records to the kernel (the file is then valid up to here). */
  flush(): void {
    this.writer.flush()
  }

  /**
   * Flushes and closes the current file. A pcapng file gets the capture's counters in an
   * Interface Statistics Block (isb_ifrecv, isb_ifdrop), as dumpcap writes them.
   */
  close(stats?: { received: number; dropped: number }): void {
    if (stats && this.writer instanceof PcapngWriter && !this.closed) {
      const now = Date.now()
      this.writer.writeStatistics({ received: stats.received, dropped: stats.dropped }, Math.floor(now / 1000), (now % 1000) * 1_000_000)
    }
    this.closed = true
    this.writer.close()
  }
}
