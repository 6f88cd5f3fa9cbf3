/**
 * The frame.* fields (the record itself, before any dissector), printed as tshark prints them.
 */
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
  // tshark 4 numbers interfaces within their pcapng section.
  'frame.interface_id': (b, i) => (b.iface[i] < 0 ? '' : String(b.interfaces[b.iface[i]]?.localId ?? b.iface[i])),
}

/** Local time of day as tcpdump prints it (`HH:MM:SS.ffffff`), or with nanoseconds. */
export function formatTimeOfDay(sec: number, nsec: number, nano = false): string {
  if (Number.isNaN(sec)) return '--:--:--.' + (nano ? '---------' : '------')
  const d = new Date(sec * 1000)
  const two = (n: number) => (n < 10 ? '0' + n : String(n))
  const frac = nano ? String(nsec).padStart(9, '0') : String(Math.floor(nsec / 1000)).padStart(6, '0')
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}.${frac}`
}
