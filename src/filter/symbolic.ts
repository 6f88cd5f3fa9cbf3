/**
 * Symbolic evaluation of a block's statements: names the value each register holds as a string
 * key (`h[12]`, `b[x:msh[14]+23]`, `(h[16]&#4095)`, `#2048`) so the optimizer can tell when two
 * blocks test the same packet value, fold tests on constants, and drop loads of values a
 * register already holds. Packet bytes never change while a program runs, so equal keys mean
 * equal values anywhere in the program.
 */
import { BPF, bpfClass, bpfMode, bpfOp, bpfSize, bpfSrc, type BpfInstruction } from './bpf.js'

/** Register contents: a key, or undefined when unknown. */
export interface RegState {
  a: string | undefined
  x: string | undefined
  mem: (string | undefined)[]
}

const sizeName = (code: number): string => (bpfSize(code) === BPF.H ? 'h' : bpfSize(code) === BPF.B ? 'b' : 'w')

/** The constant a key names, or undefined. */
export function constOf(key: string | undefined): number | undefined {
  return key !== undefined && key.startsWith('#') ? Number(key.slice(1)) : undefined
}

/** Folds an ALU operation on constants with BPF's 32-bit unsigned semantics; undefined if it cannot (division by 0). */
export function foldAlu(op: number, a: number, b: number): number | undefined {
  switch (op) {
    case BPF.ADD: return (a + b) >>> 0
    case BPF.SUB: return (a - b) >>> 0
    case BPF.MUL: return Math.imul(a, b) >>> 0
    case BPF.DIV: return b === 0 ? undefined : Math.floor(a / b) >>> 0
    case BPF.MOD: return b === 0 ? undefined : (a % b) >>> 0
    case BPF.AND: return (a & b) >>> 0
    case BPF.OR: return (a | b) >>> 0
    case BPF.XOR: return (a ^ b) >>> 0
    case BPF.LSH: return b > 31 ? 0 : (a << b) >>> 0
    case BPF.RSH: return b > 31 ? 0 : a >>> b
    case BPF.NEG: return (-a) >>> 0
  }
  return undefined
}

/** The key of what a load of A or X by `ins` yields, given the registers before it; undefined if `ins` is not a pure load. */
export function loadKey(ins: BpfInstruction, s: RegState): string | undefined {
  const cls = bpfClass(ins.code)
  if (cls === BPF.LD) {
    switch (bpfMode(ins.code)) {
      case BPF.ABS: return `${sizeName(ins.code)}[${ins.k | 0}]`
      case BPF.IND: {
        const c = constOf(s.x)
        if (c !== undefined) return `${sizeName(ins.code)}[${(c + ins.k) >>> 0}]`
        return s.x === undefined ? undefined : `${sizeName(ins.code)}[x:${s.x}+${ins.k}]`
      }
      case BPF.IMM: return `#${ins.k >>> 0}`
      case BPF.LEN: return 'len'
      case BPF.MEM: return s.mem[ins.k]
    }
  }
  if (cls === BPF.LDX) {
    switch (bpfMode(ins.code)) {
      case BPF.IMM: return `#${ins.k >>> 0}`
      case BPF.LEN: return 'len'
      case BPF.MEM: return s.mem[ins.k]
      case BPF.MSH: return `msh[${ins.k}]`
    }
  }
  return undefined
}

/** Applies one statement to the register state. */
export function step(ins: BpfInstruction, s: RegState): void {
  const cls = bpfClass(ins.code)
  switch (cls) {
    case BPF.LD: s.a = loadKey(ins, s); break
    case BPF.LDX: s.x = loadKey(ins, s); break
    case BPF.ST: s.mem[ins.k] = s.a; break
    case BPF.STX: s.mem[ins.k] = s.x; break
    case BPF.MISC: if ((ins.code & 0xf8) === BPF.TXA) s.a = s.x; else s.x = s.a; break
    case BPF.ALU: {
      const op = bpfOp(ins.code)
      const rhs = op === BPF.NEG ? '#0' : bpfSrc(ins.code) === BPF.X ? s.x : `#${ins.k >>> 0}`
      if (s.a === undefined || rhs === undefined) { s.a = undefined; break }
      const ca = constOf(s.a)
      const cb = constOf(rhs)
      if (ca !== undefined && cb !== undefined) {
        const v = foldAlu(op, ca, cb)
        if (v !== undefined) { s.a = `#${v}`; break }
      }
      s.a = `(${s.a}${op.toString(16)}${rhs})`
      break
    }
  }
}

/** A fresh state where nothing is known. */
export function unknownState(): RegState {
  return { a: undefined, x: undefined, mem: new Array(16).fill(undefined) }
}
