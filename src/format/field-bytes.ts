/**
 * Field values written as bytes into a line, exactly as formatNumber/formatBytes print them
 * (tshark's -T fields text), without a string per value.
 */
import type { InfoLine } from '../dissect/info-line.js'
import { formatBytes, type FieldSpec } from '../dissect/field-types.js'
import type { FieldOccurrences } from '../dissect/dissected-packet.js'

/** Appends occurrence k of the store (whose field is `spec`) to `line`; `data` is the packet's buffer. */
export function putFieldValue(line: InfoLine, spec: FieldSpec, store: FieldOccurrences, k: number, data: Buffer): void {
  const text = store.text[k]
  if (text !== undefined) {
    line.text(text)
    return
  }
  const off = store.off[k]
  if (off >= 0) {
    const buf = store.buf[k] ?? data
    switch (spec.type) {
      case 'none': return
      case 'ipv4': line.ipv4(buf, off); return
      case 'ether': line.ether(buf, off); return
      case 'string': line.latin1(buf, off, off + store.len[k]); return
      case 'bytes': line.hexBytes(buf, off, store.len[k]); return
      default: line.text(formatBytes(spec, buf, off, store.len[k])); return
    }
  }
  const v = store.num[k]
  if (spec.type === 'bool') line.char(v ? 0x31 : 0x30)
  else if (spec.hexDigits !== undefined && v >= 0 && v <= 0xffffffff && v === Math.floor(v)) line.char(0x30).char(0x78).hex(v, spec.hexDigits)
  else if (spec.hexDigits !== undefined) line.text('0x' + v.toString(16).padStart(spec.hexDigits, '0'))
  else if (spec.decimals !== undefined) line.text(v.toFixed(spec.decimals))
  else line.dec(v)
}
