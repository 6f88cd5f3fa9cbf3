/**
 * Field types and how values print: as `tshark -T fields` prints them (decimal, or 0x-hex with
 * the field's digits; addresses in their text forms; booleans as 1/0).
 */

/** The kinds of value a field holds. */
export type FieldType = 'uint' | 'int' | 'bool' | 'double' | 'string' | 'bytes' | 'ipv4' | 'ipv6' | 'ether' | 'none'

/** A field as a dissector declares it. */
export interface FieldSpec {
  /** Wireshark display-filter name, e.g. `ip.src`. */
  name: string
  type: FieldType
  /** Human name for the verbose tree, e.g. `Source Address`. */
  label?: string
  /** Numbers: print as 0x-hex with this many digits (as tshark does for eth.type, ip.id, ...). */
  hexDigits?: number
  /** Numbers: print with this many decimals (tshark prints relative times with 9: `0.039532000`). */
  decimals?: number
}

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** Formats a number the way the field prints. */
export function formatNumber(spec: FieldSpec, value: number): string {
  if (spec.type === 'bool') return value ? '1' : '0'
  if (spec.hexDigits !== undefined) return '0x' + value.toString(16).padStart(spec.hexDigits, '0')
  if (spec.decimals !== undefined) return value.toFixed(spec.decimals)
  return String(value)
}

/** Formats bytes data[off, off + len) the way the field prints. */
export function formatBytes(spec: FieldSpec, data: Buffer, off: number, len: number): string {
  switch (spec.type) {
    case 'ipv4':
      return `${data[off]}.${data[off + 1]}.${data[off + 2]}.${data[off + 3]}`
    case 'ether': {
      let s = HEX[data[off]]
      for (let i = 1; i < 6; i++) s += ':' + HEX[data[off + i]]
      return s
    }
    case 'ipv6':
      return ipv6Text(data, off)
    case 'string':
      return data.toString('latin1', off, off + len)
    default: {
      let s = ''
      for (let i = 0; i < len; i++) s += HEX[data[off + i]]
      return s
    }
  }
}

/** RFC 5952 text of an IPv6 address (the form Wireshark prints). */
export function ipv6Text(data: Buffer, off: number): string {
  const w: number[] = []
  for (let i = 0; i < 16; i += 2) w.push((data[off + i] << 8) | data[off + i + 1])
  if (w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0 && w[4] === 0 && w[5] === 0xffff) {
    return `::ffff:${data[off + 12]}.${data[off + 13]}.${data[off + 14]}.${data[off + 15]}`
  }
  let best = -1
  let bestLen = 1
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && w[j] === 0) j++
    if (j - i > bestLen) { best = i; bestLen = j - i }
    i = j
  }
  const hex = w.map((x) => x.toString(16))
  if (best < 0) return hex.join(':')
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`
}
