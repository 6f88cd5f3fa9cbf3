/**
 * The disassembler: prints a BPF program in tcpdump's three formats, `-d` (readable), `-dd`
 * (C array initialisers) and `-ddd` (decimal, count first). The readable form follows libpcap's
 * bpf_image(): `(NNN) op       operand          jt T\tjf F`.
 */
import { BPF, SKF_AD_OFF, SkfAd, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, type BpfInstruction } from './bpf.js'

const hex = (k: number): string => `0x${(k >>> 0).toString(16)}`
const signed = (k: number): number => k | 0

const ancillaryNames: Record<number, string> = {
  [SkfAd.PROTOCOL]: 'proto', [SkfAd.PKTTYPE]: 'type', [SkfAd.IFINDEX]: 'ifidx', [SkfAd.NLATTR]: 'nla',
  [SkfAd.NLATTR_NEST]: 'nlan', [SkfAd.MARK]: 'mark', [SkfAd.QUEUE]: 'queue', [SkfAd.HATYPE]: 'hatype',
  [SkfAd.RXHASH]: 'rxhash', [SkfAd.CPU]: 'cpu', [SkfAd.VLAN_TAG]: 'vlan_tci', [SkfAd.VLAN_TAG_PRESENT]: 'vlanp',
}

function absOperand(k: number): string {
  const off = signed(k) - SKF_AD_OFF
  if (signed(k) < 0 && off >= 0 && ancillaryNames[off] !== undefined) return `[${ancillaryNames[off]}]`
  return `[${k >>> 0}]`
}

const aluNames: Record<number, string> = {
  [BPF.ADD]: 'add', [BPF.SUB]: 'sub', [BPF.MUL]: 'mul', [BPF.DIV]: 'div', [BPF.MOD]: 'mod',
  [BPF.AND]: 'and', [BPF.OR]: 'or', [BPF.XOR]: 'xor', [BPF.LSH]: 'lsh', [BPF.RSH]: 'rsh', [BPF.NEG]: 'neg',
}
const jmpNames: Record<number, string> = { [BPF.JEQ]: 'jeq', [BPF.JGT]: 'jgt', [BPF.JGE]: 'jge', [BPF.JSET]: 'jset' }

/** One instruction as `op` and `operand`, libpcap's spelling. */
function opAndOperand(ins: BpfInstruction, n: number): [string, string] {
  const { code, k } = ins
  const sizeSuffix = (): string => (bpfSize(code) === BPF.H ? 'h' : bpfSize(code) === BPF.B ? 'b' : '')
  switch (bpfClass(code)) {
    case BPF.LD:
      switch (bpfMode(code)) {
        case BPF.ABS: return [`ld${sizeSuffix()}`, absOperand(k)]
        case BPF.IND: return [`ld${sizeSuffix()}`, `[x + ${k >>> 0}]`]
        case BPF.IMM: return ['ld', `#${hex(k)}`]
        case BPF.LEN: return ['ld', '#pktlen']
        case BPF.MEM: return ['ld', `M[${k}]`]
      }
      break
    case BPF.LDX:
      switch (bpfMode(code)) {
        case BPF.IMM: return ['ldx', `#${hex(k)}`]
        case BPF.LEN: return ['ldx', '#pktlen']
        case BPF.MEM: return ['ldx', `M[${k}]`]
        case BPF.MSH: return ['ldxb', `4*([${k}]&0xf)`]
      }
      break
    case BPF.ST: return ['st', `M[${k}]`]
    case BPF.STX: return ['stx', `M[${k}]`]
    case BPF.RET:
      if ((code & 0x18) === BPF.A) return ['ret', 'a']
      if ((code & 0x18) === BPF.X) return ['ret', 'x']
      return ['ret', `#${k >>> 0}`]
    case BPF.ALU: {
      const op = bpfOp(code)
      const name = aluNames[op] ?? 'unimp'
      if (op === BPF.NEG) return [name, '']
      if (bpfSrc(code) === BPF.X) return [name, 'x']
      const decimal = op === BPF.AND || op === BPF.OR || op === BPF.XOR ? `#${hex(k)}` : `#${k >>> 0}`
      return [name, decimal]
    }
    case BPF.JMP: {
      const op = bpfOp(code)
      if (op === BPF.JA) return ['ja', `${(n + 1 + k) >>> 0}`]
      return [jmpNames[op] ?? 'unimp', bpfSrc(code) === BPF.X ? 'x' : `#${hex(k)}`]
    }
    case BPF.MISC: return [(code & 0xf8) === BPF.TXA ? 'txa' : 'tax', '']
  }
  return ['unimp', `0x${code.toString(16)}`]
}

/** One instruction in `tcpdump -d` form. */
export function formatInstruction(ins: BpfInstruction, n: number): string {
  const [op, operand] = opAndOperand(ins, n)
  const head = `(${String(n).padStart(3, '0')}) ${op.padEnd(8)} `
  if (bpfClass(ins.code) === BPF.JMP && bpfOp(ins.code) !== BPF.JA) {
    return `${head}${operand.padEnd(16)} jt ${n + 1 + ins.jt}\tjf ${n + 1 + ins.jf}`
  }
  return `${head}${operand}`
}

/** The program as `tcpdump -d` prints it (one line per instruction, each ending in a newline). */
export function formatProgram(program: readonly BpfInstruction[]): string {
  return program.map((ins, n) => `${formatInstruction(ins, n)}\n`).join('')
}

/** The program as `tcpdump -dd` prints it: C initialisers for `struct sock_filter`. */
export function formatProgramC(program: readonly BpfInstruction[]): string {
  return program.map((i) => `{ 0x${i.code.toString(16)}, ${i.jt}, ${i.jf}, 0x${(i.k >>> 0).toString(16).padStart(8, '0')} },\n`).join('')
}

/** The program as `tcpdump -ddd` prints it: the count, then `code jt jf k` in decimal. */
export function formatProgramDecimal(program: readonly BpfInstruction[]): string {
  return `${program.length}\n${program.map((i) => `${i.code} ${i.jt} ${i.jf} ${i.k >>> 0}\n`).join('')}`
}
