/**
 * Hex dumps in tcpdump's -x layout: `\t0x0010:  4500 0034 ...`, 16 bytes a line in 2-byte groups.
 */

const HEX: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'))

/** tcpdump -x style hex of data[from, to), one string with a trailing newline per line. */
export function hexDump(data: Uint8Array, from: number, to: number): string {
  let out = ''
  for (let line = from; line < to; line += 16) {
    out += `\t0x${(line - from).toString(16).padStart(4, '0')}: `
    const end = Math.min(line + 16, to)
    for (let j = line; j < end; j += 2) {
      out += ' ' + HEX[data[j]] + (j + 1 < end ? HEX[data[j + 1]] : '')
    }
    out += '\n'
  }
  return out
}
