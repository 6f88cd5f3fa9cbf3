/**
 * The frame.* fields (the record itself, before any dissector), printed as tshark prints them.
 */
import { putUint } from '../dissect/info-line.js'
import type { RecordBatch } from '../pcap/record-batch.js'

/** Formats record i's value for a frame field, as `tshark -T fields` prints it ('' when absent). */
export type FieldGetter = (batch: RecordBatch, i: number) => string

/** frame.time_epoch as tshark prints it: seconds, a dot, nanoseconds in (at least) nine digits. */
export function formatEpoch(sec: number, nsec: number): string {
  if (Number.isNaN(sec)) return ''
  const ns = String(nsec)
  return `${sec}.${ns.length >= 9 ? ns : '000000000'.slice(ns.length) + ns}`
}

/** Getters for the frame fields, by Wireshark name. */
export const frameFields: Record<string, FieldGetter> = {
  'frame.number': (b, i) => String(b.firstNumber + i),
  'frame.time_epoch': (b, i) => formatEpoch(b.tsSec[i], b.tsNsec[i]),
  'frame.len': (b, i) => String(b.origLen[i]),
  'frame.cap_len': (b, i) => String(b.capLen[i]),
  'frame.interface_id': (b, i) => {
    const id = b.interfaceId(i)
    return id < 0 ? '' : String(id)
  },
}

/** Most bytes a frame field's value takes (an epoch of 2^53 seconds with nine decimals). */
export const MAX_FRAME_FIELD_BYTES = 42

/**
 * Writes frame field values as ASCII bytes at `p` of `buf` and returns the new end: the same
 * text as the getters above, without making a string. At most MAX_FRAME_FIELD_BYTES each.
 */
export type FieldByteWriter = (buf: Buffer, p: number, batch: RecordBatch, i: number) => number

/** frame.time_epoch as formatEpoch writes it. */
function putEpoch(buf: Buffer, p: number, sec: number, nsec: number): number {
  if (Number.isNaN(sec)) return p
  p = putUint(buf, p, sec)
  buf[p++] = 0x2e
  for (let scale = 100_000_000; scale > nsec && scale > 1; scale /= 10) buf[p++] = 0x30
  return putUint(buf, p, nsec)
}

/** Byte writers for the frame fields, by Wireshark name (the same set as frameFields). */
export const frameFieldWriters: Record<string, FieldByteWriter> = {
  'frame.number': (buf, p, b, i) => putUint(buf, p, b.firstNumber + i),
  'frame.time_epoch': (buf, p, b, i) => putEpoch(buf, p, b.tsSec[i], b.tsNsec[i]),
  'frame.len': (buf, p, b, i) => putUint(buf, p, b.origLen[i]),
  'frame.cap_len': (buf, p, b, i) => putUint(buf, p, b.capLen[i]),
  'frame.interface_id': (buf, p, b, i) => {
    const id = b.interfaceId(i)
    return id < 0 ? p : putUint(buf, p, id)
  },
}

/** The second whose `HH:MM:SS.` putTimeOfDay last wrote, and those nine bytes. */
let clockSec = NaN
const clockText = Buffer.alloc(9)

/**
 * Writes the local time of day as formatTimeOfDay gives it, at `p` of `buf` (at most 18 bytes);
 * returns the new end. The hours, minutes and seconds are worked out once per second.
 */
export function putTimeOfDay(buf: Buffer, p: number, sec: number, nsec: number, nano = false): number {
  if (sec !== clockSec && !Number.isNaN(sec)) {
    const t = formatTimeOfDay(sec, 0)
    // Seconds past Date's range print as NaN: those stay uncached, for the text path below.
    if (t.length === 15) {
      clockText.write(t, 0, 9, 'latin1')
      clockSec = sec
    }
  }
  // No time, one past Date's range, or a fraction out of range in the file (tcpdump prints all
  // its digits): as text.
  if (sec !== clockSec || nsec < 0 || nsec > 999_999_999) return p + buf.write(formatTimeOfDay(sec, nsec, nano), p, 'latin1')
  for (let i = 0; i < 9; i++) buf[p + i] = clockText[i]
  p += 9
  let frac = nano ? nsec : Math.floor(nsec / 1000)
  const digits = nano ? 9 : 6
  for (let q = p + digits - 1; q >= p; q--) {
    const d = frac % 10
    buf[q] = 48 + d
    frac = (frac - d) / 10
  }
  return p + digits
}

/** Local time of day as tcpdump prints it (`HH:MM:SS.ffffff`), or with nanoseconds. */
export function formatTimeOfDay(sec: number, nsec: number, nano = false): string {
  if (Number.isNaN(sec)) return '--:--:--.' + (nano ? '---------' : '------')
  const d = new Date(sec * 1000)
  const two = (n: number) => (n < 10 ? '0' + n : String(n))
  const frac = nano ? String(nsec).padStart(9, '0') : String(Math.floor(nsec / 1000)).padStart(6, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${frac}`
}
