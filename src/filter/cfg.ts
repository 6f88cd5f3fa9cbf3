/**
 * The control-flow graph the code generator builds and the optimizer rewrites. A block is a run
 * of statements that leaves a value in A, then one conditional jump; blocks are self-contained
 * (each computes everything its jump needs from the packet), which lets the optimizer move edges
 * past a block freely. A predicate is a graph with one entry and lists of dangling true and false
 * edges, combined the way libpcap's gen_and/gen_or/gen_not backpatch them.
 */
import { BPF, stmt, type BpfInstruction } from './bpf.js'

/** A basic block: statements, then `jmp` (a conditional jump), or a return when `ret` is set. */
export interface Block {
  id: number
  stmts: BpfInstruction[]
  /** The jump's code (BPF_JMP|op|src) and k. */
  jmp: { code: number; k: number }
  jt: Block | null
  jf: Block | null
  /** For a return block: the value returned (snaplen to accept, 0 to reject). */
  ret?: number
}

/** A dangling edge of a predicate. */
interface Edge { block: Block; side: 'jt' | 'jf' }

/** A predicate under construction: one entry, and the edges taken when it is true or false. */
export interface Pred {
  entry: Block
  t: Edge[]
  f: Edge[]
}

let nextId = 1

/** A predicate of one block: `stmts`, then the jump `code #k` (or `code x`). */
export function test(stmts: BpfInstruction[], op: number, k: number, srcX = false): Pred {
  const block: Block = { id: nextId++, stmts, jmp: { code: BPF.JMP | op | (srcX ? BPF.X : BPF.K), k: k >>> 0 }, jt: null, jf: null }
  return { entry: block, t: [{ block, side: 'jt' }], f: [{ block, side: 'jf' }] }
}

/** A return block. */
export function retBlock(value: number): Block {
  return { id: nextId++, stmts: [], jmp: { code: BPF.RET, k: value }, jt: null, jf: null, ret: value >>> 0 }
}

/** a and b: b runs where a is true. */
export function and(a: Pred, b: Pred): Pred {
  for (const e of a.t) e.block[e.side] = b.entry
  return { entry: a.entry, t: b.t, f: [...a.f, ...b.f] }
}

/** a or b: b runs where a is false. */
export function or(a: Pred, b: Pred): Pred {
  for (const e of a.f) e.block[e.side] = b.entry
  return { entry: a.entry, t: [...a.t, ...b.t], f: b.f }
}

/** not a. */
export function not(a: Pred): Pred {
  return { entry: a.entry, t: a.f, f: a.t }
}

/** A predicate that is always true (the optimizer folds its constant test away). */
export function always(): Pred {
  return test([stmt(BPF.LD | BPF.IMM, 0)], BPF.JEQ, 0)
}

/** A predicate that is always false. */
export function never(): Pred {
  return not(always())
}

/** Ends a predicate: its true edges accept `snaplen` bytes, its false edges reject. */
export function finish(p: Pred, snaplen: number): Block {
  const accept = retBlock(snaplen)
  const reject = retBlock(0)
  for (const e of p.t) e.block[e.side] = accept
  for (const e of p.f) e.block[e.side] = reject
  return p.entry
}
