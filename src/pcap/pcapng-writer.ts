/**
 * The pcapng writer: one SHB, an IDB per interface as its first packet arrives (if_tsresol 9
 * for nanoseconds), EPBs, custom blocks carried over, and ISBs with capture statistics at the
 * end when the caller has them. Little-endian, as most writers on x86 emit.
 * See: draft-ietf-opsawg-pcapng.
 */
import { FileSink } from './file-sink.js'
import { BlockType } from './pcapng-parser.js'
import { RecordKind, type InterfaceInfo, type RecordBatch } from './record-batch.js'
import { SinkWriter } from './sink-writer.js'
import type { CaptureWriter } from './writer.js'

/** Options for a pcapng file. */
export interface PcapngWriterOptions {
  nanosecond?: boolean
  /** shb_userappl. */
  application?: string
  /** Interfaces to declare up front (live capture knows them before the first packet). */
  interfaces?: readonly InterfaceInfo[]
}

/** Interface statistics written as an ISB when the file is closed. */
export interface CloseStatistics {
  /** isb_ifrecv: packets received by the interface. */
  received?: number
  /** isb_ifdrop: packets dropped by the kernel. */
  dropped?: number
  /** isb_filteraccept. */
  filterAccepted?: number
}

function optionBytes(code: number, value: Buffer): Buffer {
  const padded = (value.length + 3) & ~3
  const out = Buffer.alloc(4 + padded)
  out.writeUInt16LE(code, 0)
  out.writeUInt16LE(value.length, 2)
  value.copy(out, 4)
  return out
}

function block(type: number, body: Buffer): Buffer {
  const total = 12 + body.length
  const out = Buffer.alloc(total)
  out.writeUInt32LE(type, 0)
  out.writeUInt32LE(total, 4)
  body.copy(out, 8)
  out.writeUInt32LE(total, total - 4)
  return out
}

const END_OF_OPTIONS = Buffer.alloc(4)

const split = { hi: 0, lo: 0 }

/**
 * sec * unitsPerSec + frac as two 32-bit halves, exactly and without BigInt (this runs per packet):
 * sec = a*2^16 + b keeps every partial product below 2^53.
 */
export function splitTimestamp(sec: number, unitsPerSec: number, frac: number): { hi: number; lo: number } {
  const a = Math.floor(sec / 65536)
  const b = sec - a * 65536
  const x = a * unitsPerSec // < 2^53 for any sec below 2^53 / 1e9 * 2^16
  const xh = Math.floor(x / 65536)
  const xl = x - xh * 65536
  const y = xl * 65536 + b * unitsPerSec + frac
  const yh = Math.floor(y / 4294967296)
  split.hi = xh + yh
  split.lo = y - yh * 4294967296
  return split
}

/** Writes a pcapng file. */
export class PcapngWriter extends SinkWriter implements CaptureWriter {
  private readonly nano: boolean
  /** Source interface id (or -1 for pcap's single interface) -> IDB index in this file. */
  private readonly idbOf = new Map<number, number>()
  private idbCount = 0

  constructor(sink: FileSink, private readonly options: PcapngWriterOptions = {}) {
    super(sink)
    this.nano = options.nanosecond ?? false
    const app = options.application ?? 'netkit'
    const body = Buffer.concat([
      Buffer.from([0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0]), // byte-order magic, version 1.0
      Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]), // section length unknown
      optionBytes(4, Buffer.from(app)),
      END_OF_OPTIONS,
    ])
    sink.write(block(BlockType.SHB, body))
    options.interfaces?.forEach((info, i) => this.interfaceFor(i, info))
  }

  /** The IDB index for source interface `id`, writing the IDB the first time. */
  private interfaceFor(id: number, info: InterfaceInfo | undefined): number {
    let idb = this.idbOf.get(id)
    if (idb !== undefined) return idb
    const opts: Buffer[] = []
    if (info?.name) opts.push(optionBytes(2, Buffer.from(info.name)))
    if (info?.description) opts.push(optionBytes(3, Buffer.from(info.description)))
    if (this.nano) opts.push(optionBytes(9, Buffer.from([9])))
    if (info?.fcsLength !== undefined) opts.push(optionBytes(13, Buffer.from([info.fcsLength])))
    if (opts.length > 0) opts.push(END_OF_OPTIONS)
    const head = Buffer.alloc(8)
    head.writeUInt16LE(info?.linkType ?? 1, 0)
    head.writeUInt32LE(info?.snaplen ?? 0, 4)
    this.sink.write(block(BlockType.IDB, Buffer.concat([head, ...opts])))
    idb = this.idbCount++
    this.idbOf.set(id, idb)
    return idb
  }

  writeBatch(batch: RecordBatch, interfaces: readonly InterfaceInfo[], select?: Uint8Array): void {
    for (const s of batch.secrets) this.writeSecrets(s.type, s.data)
    const data = batch.data
    for (let i = 0; i < batch.count; i++) {
      if (select !== undefined && select[i] === 0) continue
      const off = batch.offset[i]
      const capLen = batch.capLen[i]
      if (batch.kind[i] === RecordKind.custom) {
        // Carry a custom block over as it was (its PEN sits in the 4 bytes before the data).
        const total = 16 + ((capLen + 3) & ~3)
        const { buf, at } = this.sink.reserve(total)
        buf.fill(0, at, at + total)
        buf.writeUInt32LE(BlockType.DCB, at)
        buf.writeUInt32LE(total, at + 4)
        data.copy(buf, at + 8, off - 4, off + capLen)
        buf.writeUInt32LE(total, at + total - 4)
        continue
      }
      const src = batch.iface[i]
      const idb = this.idbOf.get(src) ?? this.interfaceFor(src, src >= 0 ? interfaces[src] : interfaces[0] ?? { linkType: batch.linkType[i], snaplen: 0 })
      this.writeEpb(idb, data, off, capLen, batch.origLen[i], batch.tsSec[i], batch.tsNsec[i])
    }
  }

  /** Appends a Decryption Secrets Block (pcapng spec section 4.7): `data` of secrets `type`. */
  writeSecrets(type: number, data: Buffer): void {
    this.sink.write(secretsBlock(type, data))
  }

  /** Whether timestamps are in nanoseconds (if_tsresol 9), else microseconds. */
  get nanosecond(): boolean {
    return this.nano
  }

  /** Appends one EPB. A missing timestamp (NaN seconds) is written as 0. */
  writeEpb(idb: number, data: Buffer, offset: number, capLen: number, origLen: number, sec: number, nsec: number): void {
    const padded = (capLen + 3) & ~3
    const total = 32 + padded
    const { buf, at } = this.sink.reserve(total)
    const s = Number.isNaN(sec) ? 0 : sec
    const frac = this.nano ? nsec : Math.floor(nsec / 1000)
    const { hi: tsHi, lo: tsLo } = splitTimestamp(s, this.nano ? 1e9 : 1e6, frac)
    buf.writeUInt32LE(BlockType.EPB, at)
    buf.writeUInt32LE(total, at + 4)
    buf.writeUInt32LE(idb, at + 8)
    buf.writeUInt32LE(tsHi >>> 0, at + 12)
    buf.writeUInt32LE(tsLo >>> 0, at + 16)
    buf.writeUInt32LE(capLen, at + 20)
    buf.writeUInt32LE(origLen, at + 24)
    data.copy(buf, at + 28, offset, offset + capLen)
    buf.fill(0, at + 28 + capLen, at + 28 + padded)
    buf.writeUInt32LE(total, at + total - 4)
    this.packets++
    this.bytes += capLen
  }

  /** Writes an ISB for interface 0 with the given counters (pcapng readers show them). */
  writeStatistics(stats: CloseStatistics, sec: number, nsec: number): void {
    if (this.idbCount === 0) return
    const opts: Buffer[] = []
    const u64 = (code: number, v: number) => {
      const b = Buffer.alloc(8)
      b.writeBigUInt64LE(BigInt(v))
      opts.push(optionBytes(code, b))
    }
    if (stats.received !== undefined) u64(4, stats.received)
    if (stats.dropped !== undefined) u64(5, stats.dropped)
    if (stats.filterAccepted !== undefined) u64(6, stats.filterAccepted)
    if (opts.length > 0) opts.push(END_OF_OPTIONS)
    const head = Buffer.alloc(12)
    const units = BigInt(Math.floor(sec)) * (this.nano ? 1_000_000_000n : 1_000_000n) + BigInt(this.nano ? nsec : Math.floor(nsec / 1000))
    head.writeUInt32LE(0, 0)
    head.writeUInt32LE(Number(units >> 32n), 4)
    head.writeUInt32LE(Number(units & 0xffffffffn), 8)
    this.sink.write(block(BlockType.ISB, Buffer.concat([head, ...opts])))
  }
}

/** A Decryption Secrets Block, little-endian as every block this writer makes. */
export function secretsBlock(type: number, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32LE(type, 0)
  head.writeUInt32LE(data.length, 4)
  const pad = Buffer.alloc(((data.length + 3) & ~3) - data.length)
  return block(BlockType.DSB, Buffer.concat([head, data, pad]))
}
