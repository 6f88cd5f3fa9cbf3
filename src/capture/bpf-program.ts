/**
 * Classic BPF programs as the kernel takes them (struct sock_filter, linux/filter.h): an
 * instruction list, its 8-byte wire form for SO_ATTACH_FILTER, and a reader for `tcpdump -dd`.
 */
import { InvalidArgumentError } from '../errors.js'
import { BPF_MAXINSNS, encodeProgram, type BpfInstruction } from '../filter/bpf.js'

export type { BpfInstruction }

/** Most instructions the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = BPF_MAXINSNS

/** The program in the kernel's layout (filter/bpf.ts encodeProgram), checked to be one the kernel can take. */
export function encodeBpfProgram(program: readonly BpfInstruction[]): Buffer {
  if (program.length === 0 || program.length > BPF_MAX_INSTRUCTIONS) {
    throw new InvalidArgumentError(`a BPF program needs 1 to ${BPF_MAX_INSTRUCTIONS} instructions (got ${program.length})`)
  }
  program.forEach((ins, i) => {
    const { code, jt, jf, k } = ins
    if (![code, jt, jf, k].every(Number.isInteger) || code < 0 || code > 0xffff || jt < 0 || jt > 255 || jf < 0 || jf > 255 || k < -0x80000000 || k > 0xffffffff) {
      throw new InvalidArgumentError(`BPF instruction ${i} is out of range: ${JSON.stringify(ins)}`)
    }
  })
  const bytes = encodeProgram(program)
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
}

/** Parses `tcpdump -dd` output (`{ 0x28, 0, 0, 0x0000000c },` lines) into instructions. */
export function parseBpfDd(text: string): BpfInstruction[] {
  const out: BpfInstruction[] = []
  for (const line of text.split('\n')) {
    const m = /^\s*\{\s*(0x[0-9a-f]+|\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(0x[0-9a-f]+|\d+)\s*\}\s*,?\s*$/i.exec(line)
    if (m) out.push({ code: Number(m[1]), jt: Number(m[2]), jf: Number(m[3]), k: Number(m[4]) })
    else if (line.trim() !== '') throw new InvalidArgumentError(`not a tcpdump -dd line: '${line.trim()}'`)
  }
  return out
}
