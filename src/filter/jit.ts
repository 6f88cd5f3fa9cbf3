/**
 * The BPF "JIT": compiles a classic BPF program once into a JavaScript function (generated
 * source, `new Function`) that V8 then compiles to machine code. Classic BPF only jumps forward,
 * so every jump target t can be the end of a labeled block `Lt: { ... }` that opens at the top of
 * the program: the blocks nest (a nearer target's block sits inside a farther one's) and a jump
 * to t is `break Lt`. The result is straight-line code with branches, no dispatch loop.
 * Registers are kept as int32 (the same bits as BPF's u32; comparisons and division that
 * depend on the sign convert with `>>> 0`), so V8 stays on its small-integer paths. Loads check
 * the captured length and reject the packet when they would read past it, as bpf_filter() does;
 * division by zero rejects too. Nothing is allocated per packet. A program that jumps back
 * (`protochain`'s loop, which libpcap's interpreter allows) runs as a dispatch loop instead, and
 * rejects the packet after MAX_BACKWARD_JUMPS turns: libpcap's AH step can set the offset back
 * to where it was, and a hostile packet must not hang the reader.
 */
import { BPF, SKF_AD_OFF, SkfAd, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, type BpfInstruction } from './bpf.js'

/** A compiled filter: returns the RET value (0 = drop) for bytes data[off, off+capLen) with wire length wireLen. */
export type CompiledFilter = (data: Uint8Array, off: number, capLen: number, wireLen: number) => number

/** More jump targets than this and the nested blocks would be too deep for V8's parser: use a dispatch loop. */
const MAX_LABELS = 800
/** More turns than any packet's headers need: each IPv6 extension header takes 8 of at most 262144 bytes. */
const MAX_BACKWARD_JUMPS = 65536

/** True when a `ja` of the program goes back (its k is negative as a signed 32-bit number). */
function jumpsBack(prog: readonly BpfInstruction[]): boolean {
  return prog.some((i) => bpfClass(i.code) === BPF.JMP && bpfOp(i.code) === BPF.JA && (i.k | 0) < 0)
}

function loadExpr(size: number, at: string): string {
  if (size === BPF.B) return `d[${at}]`
  if (size === BPF.H) return `((d[${at}] << 8) | d[${at} + 1])`
  return `((d[${at}] << 24) | (d[${at} + 1] << 16) | (d[${at} + 2] << 8) | d[${at} + 3])`
}
const width = (size: number): number => (size === BPF.B ? 1 : size === BPF.H ? 2 : 4)

/** The JavaScript statement(s) for one non-jump instruction. */
function statement(ins: BpfInstruction): string {
  const { code } = ins
  const k = ins.k >>> 0
  const size = bpfSize(code)
  switch (bpfClass(code)) {
    case BPF.LD: case BPF.LDX: {
      const dst = bpfClass(code) === BPF.LD ? 'A' : 'X'
      switch (bpfMode(code)) {
        case BPF.IMM: return `${dst} = ${k | 0};`
        case BPF.LEN: return `${dst} = w | 0;`
        case BPF.MEM: return `${dst} = m${k};`
        case BPF.MSH: return `if (${k + 1} > c) return 0; X = (d[o + ${k}] & 15) << 2;`
        case BPF.ABS: {
          if ((k | 0) < 0 && (k | 0) >= SKF_AD_OFF) {
            // Ancillary data exists only for live packets; a packet from a file has no VLAN tag in metadata.
            const ad = (k | 0) - SKF_AD_OFF
            return ad === SkfAd.VLAN_TAG_PRESENT || ad === SkfAd.VLAN_TAG ? 'A = 0;' : 'return 0;'
          }
          return `if (${k + width(size)} > c) return 0; A = ${loadExpr(size, `o + ${k}`)};`
        }
        case BPF.IND:
          // X is unsigned in BPF: X + k must not wrap (bpf_filter checks each part against the length).
          return `p = (X >>> 0) + ${k}; if (p + ${width(size)} > c) return 0; p += o; A = ${loadExpr(size, 'p')};`
      }
      return 'return 0;'
    }
    case BPF.ST: return `m${k} = A;`
    case BPF.STX: return `m${k} = X;`
    case BPF.ALU: {
      const op = bpfOp(code)
      const src = bpfSrc(code) === BPF.X ? 'X' : String(k | 0)
      const usrc = bpfSrc(code) === BPF.X ? '(X >>> 0)' : String(k)
      const zero = bpfSrc(code) === BPF.X ? 'if (X === 0) return 0; ' : ''
      switch (op) {
        case BPF.ADD: return `A = (A + ${src}) | 0;`
        case BPF.SUB: return `A = (A - ${src}) | 0;`
        case BPF.MUL: return `A = Math.imul(A, ${src});`
        case BPF.DIV: return `${zero}A = Math.floor((A >>> 0) / ${usrc}) | 0;`
        case BPF.MOD: return `${zero}A = ((A >>> 0) % ${usrc}) | 0;`
        case BPF.AND: return `A &= ${src};`
        case BPF.OR: return `A |= ${src};`
        case BPF.XOR: return `A ^= ${src};`
        case BPF.LSH: return `A = ${usrc} > 31 ? 0 : A << ${usrc};`
        case BPF.RSH: return `A = ${usrc} > 31 ? 0 : (A >>> ${usrc}) | 0;`
        case BPF.NEG: return 'A = -A | 0;'
      }
      return 'return 0;'
    }
    case BPF.RET: {
      const r = (code & 0x18) === BPF.A ? 'A >>> 0' : (code & 0x18) === BPF.X ? 'X >>> 0' : String(k)
      return `return ${r};`
    }
    case BPF.MISC: return (code & 0xf8) === BPF.TXA ? 'A = X;' : 'X = A;'
  }
  return 'return 0;'
}

/** The condition of a conditional jump. */
function condition(ins: BpfInstruction): string {
  const op = bpfOp(ins.code)
  const x = bpfSrc(ins.code) === BPF.X
  const k = ins.k >>> 0
  switch (op) {
    case BPF.JEQ: return x ? 'A === X' : `A === ${k | 0}`
    case BPF.JGT: return x ? '(A >>> 0) > (X >>> 0)' : `(A >>> 0) > ${k}`
    case BPF.JGE: return x ? '(A >>> 0) >= (X >>> 0)' : `(A >>> 0) >= ${k}`
    default: return x ? '(A & X) !== 0' : `(A & ${k | 0}) !== 0`
  }
}

function targetsOf(prog: readonly BpfInstruction[]): Set<number> {
  const targets = new Set<number>()
  prog.forEach((ins, i) => {
    if (bpfClass(ins.code) !== BPF.JMP) return
    if (bpfOp(ins.code) === BPF.JA) targets.add(i + 1 + (ins.k | 0))
    else { targets.add(i + 1 + ins.jt); targets.add(i + 1 + ins.jf) }
  })
  return targets
}

function prologue(prog: readonly BpfInstruction[]): string[] {
  const lines = ['let A = 0, X = 0, p = 0;']
  const usesMem = prog.some((i) => bpfClass(i.code) === BPF.ST || bpfClass(i.code) === BPF.STX || bpfMode(i.code) === BPF.MEM)
  if (usesMem) lines.push('let m0=0,m1=0,m2=0,m3=0,m4=0,m5=0,m6=0,m7=0,m8=0,m9=0,m10=0,m11=0,m12=0,m13=0,m14=0,m15=0;')
  return lines
}

/** Generates the JavaScript source of a program's filter function body (labeled blocks). */
export function jitSource(prog: readonly BpfInstruction[], style: 'blocks' | 'dispatch' = 'blocks'): string {
  const targets = targetsOf(prog)
  if (style === 'dispatch' || targets.size > MAX_LABELS || jumpsBack(prog)) return dispatchSource(prog, targets)
  const lines = prologue(prog)
  // Open every target's block at the top, the farthest outermost.
  const sorted = [...targets].sort((a, b) => b - a)
  lines.push(sorted.map((t) => `L${t}: {`).join(' '))
  prog.forEach((ins, i) => {
    if (targets.has(i)) lines.push(`} // L${i}`)
    if (bpfClass(ins.code) !== BPF.JMP) { lines.push(statement(ins)); return }
    if (bpfOp(ins.code) === BPF.JA) { lines.push(`break L${i + 1 + ins.k};`); return }
    const t = i + 1 + ins.jt
    const f = i + 1 + ins.jf
    const cond = condition(ins)
    // Falling through to the next instruction needs no break (its block closes right there anyway).
    if (t === i + 1 && f === i + 1) return
    if (t === i + 1) lines.push(`if (!(${cond})) break L${f};`)
    else if (f === i + 1) lines.push(`if (${cond}) break L${t};`)
    else lines.push(`if (${cond}) break L${t}; else break L${f};`)
  })
  lines.push('return 0;')
  return lines.join('\n')
}

/** The fallback for huge programs: a switch in a loop, one case per jump target. */
function dispatchSource(prog: readonly BpfInstruction[], targets: Set<number>): string {
  const lines = prologue(prog)
  lines.push('let pc = 0, turns = 0;', 'for (;;) switch (pc) {', 'case 0:')
  const goto = (t: number): string => `{ pc = ${t}; continue }`
  prog.forEach((ins, i) => {
    if (i > 0 && targets.has(i)) lines.push(`case ${i}:`)
    if (bpfClass(ins.code) !== BPF.JMP) { lines.push(statement(ins)); return }
    if (bpfOp(ins.code) === BPF.JA && (ins.k | 0) < 0) { lines.push(`if (++turns > ${MAX_BACKWARD_JUMPS}) return 0;`, goto(i + 1 + (ins.k | 0))); return }
    if (bpfOp(ins.code) === BPF.JA) { lines.push(goto(i + 1 + ins.k)); return }
    lines.push(`if (${condition(ins)}) ${goto(i + 1 + ins.jt)} else ${goto(i + 1 + ins.jf)}`)
  })
  lines.push('default: return 0;', '}')
  return lines.join('\n')
}

/** Compiles a program into a filter function (`dispatch` forces the fallback style, for tests). */
export function jit(prog: readonly BpfInstruction[], style: 'blocks' | 'dispatch' = 'blocks'): CompiledFilter {
  // eslint-disable-next-line @typescript-eslint/no-implied-eval
  return new Function('d', 'o', 'c', 'w', jitSource(prog, style)) as CompiledFilter
}
