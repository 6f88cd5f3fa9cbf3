/**
 * Classic BPF programs as the kernel takes them (struct sock_filter, linux/filter.h): an
 * instruction list, its 8-byte wire form for SO_ATTACH_FILTER, and a reader for `tcpdump -dd`.
 */
import { endianness } from 'node:os'
import { InvalidArgumentError } from '../errors.js'

/** One classic BPF instruction (struct sock_filter / struct bpf_insn). */
export interface BpfInstruction {
  code: number
  jt: number
  jf: number
  k: number
}

/** Most instructions the kernel accepts (BPF_MAXINSNS). */
export const BPF_MAX_INSTRUCTIONS = 4096

/** The program in the kernel's layout: u16 code, u8 jt, u8 jf, u32 k, host byte order. */
export function encodeBpfProgram(program: readonly BpfInstruction[]): Buffer {
  if (program.length === 0 || program.length > BPF_MAX_INSTRUCTIONS) {
    throw new InvalidArgumentError(`a BPF program needs 1 to ${BPF_MAX_INSTRUCTIONS} instructions (got ${program.length})`)
  }
  const le = endianness() === 'LE'
  const out = Buffer.alloc(program.length * 8)
  program.forEach((ins, i) => {
    const { code, jt, jf, k } = ins
    if (![code, jt, jf, k].every(Number.isInteger) || code < 0 || code > 0xffff || jt < 0 || jt > 255 || jf < 0 || jf > 255 || k < -0x80000000 || k > 0xffffffff) {
      throw new InvalidArgumentError(`BPF instruction ${i} is out of range: ${JSON.stringify(ins)}`)
    }
    const o = i * 8
    if (le) out.writeUInt16LE(code, o); else out.writeUInt16BE(code, o)
    out[o + 2] = jt
    out[o + 3] = jf
    if (le) out.writeUInt32LE(k >>> 0, o + 4); else out.writeUInt32BE(k >>> 0, o + 4)
  })
  return out
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
