/**
 * pcapng block parser: SHB (several sections, each with its own byte order), IDB (link type,
 * snaplen, if_tsresol in 10^-n and 2^-n), EPB, SPB, the obsolete PB, ISB, NRB, custom blocks
 * (delivered as records, as tshark shows them), and unknown blocks skipped.
 * See: draft-ietf-opsawg-pcapng.
 */
import { FileFormatError } from '../errors.js'
import { MAX_BLOCK_BYTES, type RecordParser } from './record-parser.js'
import { RecordKind, type InterfaceInfo, type RecordBatch } from './record-batch.js'

/** pcapng block types netkit reads or writes. */
export const BlockType = {
  SHB: 0x0a0d0d0a,
  IDB: 0x00000001,
  PB: 0x00000002,
  SPB: 0x00000003,
  NRB: 0x00000004,
  ISB: 0x00000005,
  EPB: 0x00000006,
  DSB: 0x0000000a,
  CB: 0x00000bad,
  DCB: 0x40000bad,
} as const

/** The byte-order magic of an SHB. */
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d

/** Interface statistics from an ISB (isb_ifrecv, isb_ifdrop, ...), by global interface id. */
export interface InterfaceStatistics {
  iface: number
  received?: bigint
  dropped?: bigint
  filterAccepted?: bigint
  osDropped?: bigint
  delivered?: bigint
}

/** Record parser for pcapng. */
export class PcapngParser implements RecordParser {
  readonly interfaces: InterfaceInfo[] = []
  /** Statistics blocks seen so far. */
  readonly statistics: InterfaceStatistics[] = []
  /** Number of sections (SHBs) seen. */
  sections = 0
  need = 0
  error: FileFormatError | null = null
  warnings: string[] = []
  private le = true
  /** Global id of the current section's interface 0. */
  private sectionBase = 0
  /** Per local interface of the current section: units per second, and whether it is a power of ten. */
  private units: number[] = []
  private pow10Exp: number[] = []

  constructor(private readonly file: string) {}

  parse(buf: Buffer, pos: number, end: number, batch: RecordBatch, base: number): number {
    const cap = batch.capacity
    this.need = 0
    while (batch.count < cap) {
      if (end - pos < 12) {
        this.need = 12
        break
      }
      // An SHB's length is in its own byte order, which only its magic tells.
      let type = buf.readUInt32LE(pos)
      if (type === BlockType.SHB) {
        if (end - pos < 12) { this.need = 12; break }
        const magic = buf.readUInt32LE(pos + 8)
        if (magic === BYTE_ORDER_MAGIC) this.le = true
        else if (magic === 0x4d3c2b1a) this.le = false
        else {
          this.error = new FileFormatError(this.file, base + pos + 8, `bad pcapng byte-order magic 0x${magic.toString(16).padStart(8, '0')}`)
          break
        }
      } else if (!this.le) {
        type = buf.readUInt32BE(pos)
      }
      const le = this.le
      const total = le ? buf.readUInt32LE(pos + 4) : buf.readUInt32BE(pos + 4)
      if (total < 12 || total % 4 !== 0 || total > MAX_BLOCK_BYTES) {
        this.error = new FileFormatError(this.file, base + pos + 4,
          `corrupt pcapng block length ${total} for block type 0x${type.toString(16).padStart(8, '0')} (must be a multiple of 4 between 12 and ${MAX_BLOCK_BYTES})`)
        break
      }
      if (end - pos < total) {
        this.need = total
        break
      }
      const trailer = le ? buf.readUInt32LE(pos + total - 4) : buf.readUInt32BE(pos + total - 4)
      if (trailer !== total) {
        this.error = new FileFormatError(this.file, base + pos + total - 4,
          `corrupt pcapng block: trailing length ${trailer} does not match leading length ${total}`)
        break
      }
      if (type === BlockType.EPB && total >= 32 && le) {
        // The common case, inline: a little-endian EPB on a known interface.
        const local = buf.readUInt32LE(pos + 8)
        const capLen = buf.readUInt32LE(pos + 20)
        if (local < this.units.length && capLen <= total - 32) {
          const n = batch.count
          this.timestamp(batch, n, buf.readUInt32LE(pos + 12), buf.readUInt32LE(pos + 16), local)
          batch.capLen[n] = capLen
          batch.origLen[n] = buf.readUInt32LE(pos + 24)
          batch.offset[n] = pos + 28
          this.packet(batch, n, local)
          pos += total
          continue
        }
      }
      if (!this.block(type, buf, pos, total, batch, base)) break
      pos += total
    }
    return pos
  }

  /** Handles one whole block; false (with `error` set) when it is damaged. */
  private block(type: number, buf: Buffer, pos: number, total: number, batch: RecordBatch, base: number): boolean {
    const le = this.le
    const rd16 = (o: number) => (this.le ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
    const rd32 = (o: number) => (this.le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
    const bodyEnd = pos + total - 4
    switch (type) {
      case BlockType.EPB: case BlockType.PB: {
        if (total < 32) return this.fail(base + pos, `enhanced packet block too short (${total} bytes)`)
        const isPB = type === BlockType.PB
        const local = isPB ? rd16(pos + 8) : rd32(pos + 8)
        if (local >= this.units.length) return this.fail(base + pos + 8, `packet block names interface ${local}, but the section has ${this.units.length}`)
        const capLen = rd32(pos + 20)
        if (capLen > total - 32) return this.fail(base + pos + 20, `packet block captured length ${capLen} exceeds the block (${total} bytes)`)
        const n = batch.count
        this.timestamp(batch, n, rd32(pos + 12), rd32(pos + 16), local)
        batch.capLen[n] = capLen
        batch.origLen[n] = rd32(pos + 24)
        batch.offset[n] = pos + 28
        this.packet(batch, n, local)
        return true
      }
      case BlockType.SPB: {
        if (total < 16) return this.fail(base + pos, `simple packet block too short (${total} bytes)`)
        if (this.units.length === 0) return this.fail(base + pos, 'simple packet block before any interface description block')
        const origLen = rd32(pos + 8)
        const iface = this.interfaces[this.sectionBase]
        let capLen = Math.min(origLen, total - 16)
        if (iface.snaplen !== 0 && capLen > iface.snaplen) capLen = iface.snaplen
        const n = batch.count
        batch.tsSec[n] = NaN
        batch.tsNsec[n] = 0
        batch.capLen[n] = capLen
        batch.origLen[n] = origLen
        batch.offset[n] = pos + 12
        this.packet(batch, n, 0)
        return true
      }
      case BlockType.IDB: {
        if (total < 20) return this.fail(base + pos, `interface description block too short (${total} bytes)`)
        const info: InterfaceInfo = { linkType: rd16(pos + 8), snaplen: rd32(pos + 12), tsUnitsPerSecond: 1e6 }
        let exp10 = 6
        let units = 1e6
        for (let o = pos + 16; o + 4 <= bodyEnd;) {
          const code = rd16(o)
          const len = rd16(o + 2)
          if (code === 0) break
          const v = o + 4
          if (v + len > bodyEnd) return this.fail(base + o, `option ${code} runs past the end of its block`)
          if (code === 2) info.name = buf.toString('utf8', v, v + len).replace(/\0+$/, '')
          else if (code === 3) info.description = buf.toString('utf8', v, v + len).replace(/\0+$/, '')
          else if (code === 9 && len >= 1) {
            const r = buf[v]
            if (r & 0x80) { exp10 = -1; units = 2 ** (r & 0x7f) } else { exp10 = r; units = 10 ** r }
          } else if (code === 13 && len >= 1) info.fcsLength = buf[v]
          o = v + ((len + 3) & ~3)
        }
        info.tsUnitsPerSecond = units
        info.localId = this.units.length
        this.interfaces.push(info)
        this.units.push(units)
        this.pow10Exp.push(exp10)
        return true
      }
      case BlockType.SHB: {
        if (total < 28) return this.fail(base + pos, `section header block too short (${total} bytes)`)
        const major = rd16(pos + 12)
        if (major !== 1) return this.fail(base + pos + 12, `unsupported pcapng version ${major}.${rd16(pos + 14)}`)
        this.sections++
        this.sectionBase = this.interfaces.length
        this.units = []
        this.pow10Exp = []
        return true
      }
      case BlockType.CB: case BlockType.DCB: {
        // tshark shows custom blocks as records of their own: no timestamp, no interface,
        // length = everything after the Private Enterprise Number.
        if (total < 16) return this.fail(base + pos, `custom block too short (${total} bytes)`)
        const n = batch.count
        batch.tsSec[n] = NaN
        batch.tsNsec[n] = 0
        batch.capLen[n] = total - 16
        batch.origLen[n] = total - 16
        batch.offset[n] = pos + 12
        batch.iface[n] = -1
        batch.linkType[n] = -1
        batch.kind[n] = RecordKind.custom
        batch.count = n + 1
        return true
      }
      case BlockType.ISB: {
        if (total < 24) return this.fail(base + pos, `interface statistics block too short (${total} bytes)`)
        const local = rd32(pos + 8)
        const stats: InterfaceStatistics = { iface: this.sectionBase + local }
        const rd64 = (o: number) => (le ? buf.readBigUInt64LE(o) : buf.readBigUInt64BE(o))
        for (let o = pos + 20; o + 4 <= bodyEnd;) {
          const code = rd16(o)
          const len = rd16(o + 2)
          if (code === 0) break
          const v = o + 4
          if (v + len > bodyEnd) return this.fail(base + o, `option ${code} runs past the end of its block`)
          if (len === 8) {
            if (code === 4) stats.received = rd64(v)
            else if (code === 5) stats.dropped = rd64(v)
            else if (code === 6) stats.filterAccepted = rd64(v)
            else if (code === 7) stats.osDropped = rd64(v)
            else if (code === 8) stats.delivered = rd64(v)
          }
          o = v + ((len + 3) & ~3)
        }
        this.statistics.push(stats)
        return true
      }
      case BlockType.DSB: {
        if (total < 20) return this.fail(base + pos, `decryption secrets block too short (${total} bytes)`)
        const length = rd32(pos + 12)
        if (16 + length > total - 4) return this.fail(base + pos, `decryption secrets (${length} bytes) run past the end of their block`)
        // Kept beside the records, so that a rewrite keeps the file decryptable.
        batch.secrets.push({ type: rd32(pos + 8), data: Buffer.from(buf.subarray(pos + 16, pos + 16 + length)) })
        return true
      }
      default:
        // NRB, systemd journal and blocks from the future: nothing to deliver, skip whole.
        return true
    }
  }

  private packet(batch: RecordBatch, n: number, local: number): void {
    const id = this.sectionBase + local
    batch.iface[n] = id
    batch.linkType[n] = this.interfaces[id].linkType
    batch.kind[n] = RecordKind.packet
    batch.count = n + 1
  }

  /** Converts a 64-bit timestamp in the interface's units to seconds + nanoseconds, exactly. */
  private timestamp(batch: RecordBatch, n: number, hi: number, lo: number, local: number): void {
    const units = this.units[local]
    const exp10 = this.pow10Exp[local]
    if (hi < 0x200000 && (exp10 >= 0 ? exp10 <= 9 : units <= 1 << 20)) {
      // Below 2^53 every step is exact in doubles.
      const ts = hi * 4294967296 + lo
      const sec = Math.floor(ts / units)
      const rem = ts - sec * units
      batch.tsSec[n] = sec
      batch.tsNsec[n] = exp10 >= 0 ? rem * 10 ** (9 - exp10) : Math.floor((rem * 1e9) / units)
      return
    }
    const ts = (BigInt(hi) << 32n) | BigInt(lo)
    const u = exp10 >= 0 ? 10n ** BigInt(exp10) : BigInt(units)
    batch.tsSec[n] = Number(ts / u)
    batch.tsNsec[n] = Number(((ts % u) * 1_000_000_000n) / u)
  }

  private fail(offset: number, what: string): false {
    this.error = new FileFormatError(this.file, offset, what)
    return false
  }
}
