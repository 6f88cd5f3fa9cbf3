/**
 * Classic libpcap record parser: the four magics (µs/ns, little/big endian), the modified
 * ("Kuznetzov") format with its longer record header, captured vs original length.
 * See: pcap-savefile(5), draft-ietf-opsawg-pcap.
 */
import { FileFormatError } from '../errors.js'
import { libpcapSnaplen } from './link-types.js'
import { MAX_BLOCK_BYTES, MAX_STANDARD_CAPLEN, type RecordParser } from './record-parser.js'
import { RecordKind, RecordLayout, type InterfaceInfo, type RecordBatch } from './record-batch.js'

/** Magic numbers as read little-endian from the first four bytes. */
export const PcapMagic = {
  microLE: 0xa1b2c3d4,
  microBE: 0xd4c3b2a1,
  nanoLE: 0xa1b23c4d,
  nanoBE: 0x4d3cb2a1,
  modifiedLE: 0xa1b2cd34,
  modifiedBE: 0x34cdb2a1,
} as const

/** The fixed classic pcap file header. */
export interface PcapHeader {
  littleEndian: boolean
  nanosecond: boolean
  /** Record header length: 16, or 24 for the modified format. */
  recordHeaderLength: number
  versionMajor: number
  versionMinor: number
  snaplen: number
  /** LINKTYPE_* (FCS bits masked off). */
  linkType: number
  /** FCS length in bytes when the header's F bit is set. */
  fcsLength?: number
  /**
   * The link-type word's upper six bits (FCS and other link-type extensions), which libpcap
   * keeps and writes back with the link type (LT_LINKTYPE_EXT in pcap-common.h).
   */
  linkTypeExt: number
}

/** Whether the first four bytes (read little-endian) are a classic pcap magic. */
export function isPcapMagic(magicLE: number): boolean {
  return Object.values(PcapMagic).includes(magicLE as never)
}

/** Parses the 24-byte file header (the caller checked that 24 bytes are there). */
export function parsePcapHeader(buf: Buffer, file: string): PcapHeader {
  const magicLE = buf.readUInt32LE(0)
  const le = magicLE === PcapMagic.microLE || magicLE === PcapMagic.nanoLE || magicLE === PcapMagic.modifiedLE
  const rd16 = (o: number) => (le ? buf.readUInt16LE(o) : buf.readUInt16BE(o))
  const rd32 = (o: number) => (le ? buf.readUInt32LE(o) : buf.readUInt32BE(o))
  const versionMajor = rd16(4)
  const versionMinor = rd16(6)
  if (versionMajor !== 2) {
    throw new FileFormatError(file, 4, `unsupported pcap version ${versionMajor}.${versionMinor} (only 2.x exists)`)
  }
  const network = rd32(20)
  // LINKTYPE_ field: low 26 bits the link type; bit 26 says the FCS length is in bits 28-31.
  // See: draft-ietf-opsawg-pcap, "LinkType and additional information".
  const fcs = (network & 0x04000000) !== 0 ? ((network >>> 28) & 0xf) * 2 : undefined
  return {
    littleEndian: le,
    nanosecond: magicLE === PcapMagic.nanoLE || magicLE === PcapMagic.nanoBE,
    recordHeaderLength: magicLE === PcapMagic.modifiedLE || magicLE === PcapMagic.modifiedBE ? 24 : 16,
    versionMajor,
    versionMinor,
    snaplen: rd32(16),
    linkType: network & 0xffff,
    fcsLength: fcs,
    linkTypeExt: (network & 0xfc000000) >>> 0,
  }
}

/** Record parser for classic pcap. */
export class PcapParser implements RecordParser {
  readonly interfaces: InterfaceInfo[]
  need = 0
  error: FileFormatError | null = null
  warnings: string[] = []
  private readonly maxCapLen: number
  /** Captured lengths above this are cut to it (Infinity: kept whole). */
  private readonly cutTo: number
  private warnedSnaplen = false
  /** A DataView of the last buffer parsed (the reader's buffer or mapped window; rarely replaced). */
  private view: DataView = new DataView(new ArrayBuffer(0))
  private viewOf: Buffer | undefined
  /** What the parse loop's cache-line touches read, kept so that the compiler keeps the loads. */
  private touched = 0

  /**
   * With `cutToSnaplen`, a record longer than the file's snaplen (libpcap's adjusted one) is
   * delivered cut to it, as libpcap delivers it (sf-pcap.c), so a filter and a writer see what
   * tcpdump's do; its bytes in the buffer and its record header stay as they are.
   */
  constructor(readonly header: PcapHeader, private readonly file: string, cutToSnaplen = false) {
    this.cutTo = cutToSnaplen ? libpcapSnaplen(header.linkType, header.snaplen) : Infinity
    this.interfaces = [{
      linkType: header.linkType,
      snaplen: header.snaplen,
      tsUnitsPerSecond: header.nanosecond ? 1e9 : 1e6,
      fcsLength: header.fcsLength,
    }]
    // A sane bound whatever the header claims: Wireshark's standard maximum, or the file's own
    // snaplen when that is larger, never more than one block's worth.
    this.maxCapLen = Math.min(Math.max(MAX_STANDARD_CAPLEN, header.snaplen), MAX_BLOCK_BYTES)
  }

  parse(buf: Buffer, pos: number, end: number, batch: RecordBatch, base: number): number {
    const le = this.header.littleEndian
    const hdrLen = this.header.recordHeaderLength
    const fracScale = this.header.nanosecond ? 1 : 1000
    const linkType = this.header.linkType
    const snaplen = this.header.snaplen
    const cap = batch.capacity
    if (buf !== this.viewOf) {
      this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength)
      this.viewOf = buf
    }
    const view = this.view
    let touched = 0
    let n = batch.count
    this.need = 0
    while (n < cap) {
      if (end - pos < hdrLen) {
        this.need = hdrLen
        break
      }
      const capLen = view.getUint32(pos + 8, le)
      if (capLen > this.maxCapLen) {
        this.error = new FileFormatError(this.file, base + pos,
          `record ${batch.firstNumber + n} claims ${capLen} captured bytes, more than the sane maximum of ${this.maxCapLen}; the file is damaged`)
        break
      }
      const total = hdrLen + capLen
      if (end - pos < total) {
        this.need = total
        break
      }
      if (capLen > snaplen && snaplen !== 0 && !this.warnedSnaplen) {
        this.warnedSnaplen = true
        this.warnings.push(`${this.file}: record ${batch.firstNumber + n} at byte offset ${base + pos} has ${capLen} captured bytes, more than the file's snaplen of ${snaplen}; ${this.cutTo === Infinity ? 'reading it anyway' : 'cutting it to the snaplen, as libpcap does'}`)
      }
      batch.tsSec[n] = view.getUint32(pos, le)
      batch.tsNsec[n] = view.getUint32(pos + 4, le) * fracScale
      batch.origLen[n] = view.getUint32(pos + 12, le)
      batch.capLen[n] = capLen > this.cutTo ? this.cutTo : capLen
      // Touch the two cache lines after the header's, where the packet's headers and first
      // payload bytes lie: a filter or dissector reads them next, and loading them here overlaps
      // their cache misses with the walk to the next record (docs/performance.md, #27).
      touched ^= buf[pos + 64 < end ? pos + 64 : pos] ^ buf[pos + 128 < end ? pos + 128 : pos]
      batch.offset[n] = pos + hdrLen
      batch.iface[n] = -1
      batch.linkType[n] = linkType
      batch.kind[n] = RecordKind.packet
      n++
      pos += total
    }
    batch.count = n
    this.touched = touched
    batch.layout = le && hdrLen === 16 ? (this.header.nanosecond ? RecordLayout.pcapNano : RecordLayout.pcapMicro) : RecordLayout.none
    return pos
  }
}
