/**
 * The optimizer: rewrites the block graph the way libpcap's optimize.c aims to, in passes
 * repeated until nothing changes:
 * - constant folding: a test on a constant goes straight to its outcome;
 * - jump threading: an edge whose facts (the outcomes of earlier tests of the same packet value
 *   on every path to it) decide the next test jumps past it, so `tcp or udp` tests the EtherType
 *   once per path;
 * - dead code: blocks whose two edges agree are skipped, unreachable blocks vanish;
 * - common blocks: identical blocks with identical successors are merged.
 * Redundant loads are removed later, when the program is laid out (program.ts).
 */
import { BPF, bpfOp, bpfSrc } from './bpf.js'
import type { Block } from './cfg.js'
import { constOf, step, unknownState } from './symbolic.js'

/** What a passed test says about a value: `key op k` was `outcome`. */
interface Fact { key: string; op: number; k: number; outcome: boolean }

/** The packet value a block tests, or undefined when it compares with X (not foldable here). */
function testedKey(b: Block): string | undefined {
  if (b.ret !== undefined || bpfSrc(b.jmp.code) === BPF.X) return undefined
  const s = unknownState()
  for (const ins of b.stmts) step(ins, s)
  return s.a
}

/** Decides `key op k` from facts about the key, or undefined. */
function decide(key: string, op: number, k: number, facts: readonly Fact[]): boolean | undefined {
  const c = constOf(key)
  if (c !== undefined) return evalTest(op, c, k)
  for (const f of facts) {
    if (f.key !== key) continue
    if (f.op === op && f.k === k) return f.outcome
    if (f.op === BPF.JEQ && f.outcome) return evalTest(op, f.k, k)
    // Range facts: v > a (or v >= a) and v <= a (or v < a).
    let lo = 0
    let hi = 0xffffffff
    if (f.op === BPF.JGT) { if (f.outcome) lo = f.k + 1; else hi = f.k }
    else if (f.op === BPF.JGE) { if (f.outcome) lo = f.k; else hi = f.k - 1 }
    else if (f.op === BPF.JEQ && !f.outcome) { if (op === BPF.JEQ && k === f.k) return false; continue }
    else if (f.op === BPF.JSET) {
      if (op === BPF.JSET && f.outcome && (f.k & ~k) === 0) return true
      if (op === BPF.JSET && !f.outcome && (k & ~f.k) === 0) return false
      if (op === BPF.JEQ && !f.outcome && (k & f.k) !== 0) return false
      if (op === BPF.JEQ && f.outcome && k === 0) return false
      continue
    } else continue
    if (hi < lo) continue
    if (op === BPF.JEQ && (k < lo || k > hi)) return false
    if (op === BPF.JGT) { if (lo > k) return true; if (hi <= k) return false }
    if (op === BPF.JGE) { if (lo >= k) return true; if (hi < k) return false }
  }
  return undefined
}

function evalTest(op: number, v: number, k: number): boolean {
  switch (op) {
    case BPF.JEQ: return v === k
    case BPF.JGT: return v > k
    case BPF.JGE: return v >= k
    default: return ((v & k) >>> 0) !== 0
  }
}

/** The blocks reachable from `root`, in an order where every edge goes forward. */
export function topoOrder(root: Block): Block[] {
  // Depth-first post-order, iteratively: graphs of long expressions are deeper than the JS stack.
  const out: Block[] = []
  const seen = new Set<Block>([root])
  const stack: { b: Block; next: number }[] = [{ b: root, next: 0 }]
  while (stack.length > 0) {
    const top = stack[stack.length - 1]
    const succ = top.next === 0 ? top.b.jt : top.next === 1 ? top.b.jf : null
    if (top.next++ >= 2) { stack.pop(); out.push(top.b); continue }
    if (succ && !seen.has(succ)) { seen.add(succ); stack.push({ b: succ, next: 0 }) }
  }
  return out.reverse()
}

const factId = (f: Fact): string => `${f.key}|${f.op}|${f.k}|${f.outcome}`

/** Optimizes the graph in place; returns the new root. */
export function optimize(root: Block): Block {
  for (const b of topoOrder(root)) peephole(b)
  const entry: Block = { id: 0, stmts: [], jmp: { code: BPF.JMP | BPF.JA, k: 0 }, jt: root, jf: root }
  for (let pass = 0; pass < 20; pass++) {
    let changed = thread(entry)
    changed = mergeCommon(entry) || changed
    if (!changed) break
  }
  return entry.jt!
}

function thread(entry: Block): boolean {
  let changed = false
  const order = topoOrder(entry)
  const keys = new Map<Block, string | undefined>()
  for (const b of order) keys.set(b, testedKey(b))
  const inFacts = new Map<Block, Map<string, Fact>>()
  const addEdge = (to: Block, facts: Map<string, Fact>): void => {
    const cur = inFacts.get(to)
    if (!cur) { inFacts.set(to, new Map(facts)); return }
    for (const id of [...cur.keys()]) if (!facts.has(id)) cur.delete(id)
  }
  for (const b of order) {
    if (b.ret !== undefined) continue
    const facts = b === entry ? new Map<string, Fact>() : (inFacts.get(b) ?? new Map<string, Fact>())
    for (const side of ['jt', 'jf'] as const) {
      const edgeFacts = new Map(facts)
      const key = keys.get(b)
      if (b !== entry && key !== undefined) { const f = { key, op: bpfOp(b.jmp.code), k: b.jmp.k, outcome: side === 'jt' }; edgeFacts.set(factId(f), f) }
      let target = b[side]!
      for (let hops = 0; hops < 10000 && target.ret === undefined; hops++) {
        if (target.jt === target.jf) { target = target.jt!; continue }
        const tk = keys.get(target) ?? testedKey(target)
        if (tk === undefined) break
        const d = decide(tk, bpfOp(target.jmp.code), target.jmp.k, [...edgeFacts.values()])
        if (d === undefined) break
        const f = { key: tk, op: bpfOp(target.jmp.code), k: target.jmp.k, outcome: d }
        edgeFacts.set(factId(f), f)
        target = d ? target.jt! : target.jf!
      }
      if (target !== b[side]) { b[side] = target; changed = true }
      if (b === entry) { b.jf = b.jt; addEdge(target, edgeFacts); break }
      addEdge(target, edgeFacts)
    }
  }
  return changed
}

function signature(b: Block, ids: Map<Block, number>): string {
  if (b.ret !== undefined) return `ret ${b.ret}`
  return `${b.stmts.map((s) => `${s.code},${s.k}`).join(';')}|${b.jmp.code},${b.jmp.k}|${ids.get(b.jt!)}|${ids.get(b.jf!)}`
}

function mergeCommon(entry: Block): boolean {
  const order = topoOrder(entry).reverse()
  const ids = new Map<Block, number>()
  const canon = new Map<string, Block>()
  const replace = new Map<Block, Block>()
  let changed = false
  for (const b of order) {
    if (b === entry) continue
    if (b.jt) b.jt = replace.get(b.jt) ?? b.jt
    if (b.jf) b.jf = replace.get(b.jf) ?? b.jf
    const sig = signature(b, ids)
    const c = canon.get(sig)
    if (c && c !== b) { replace.set(b, c); changed = true; continue }
    canon.set(sig, b)
    ids.set(b, ids.size)
  }
  entry.jt = replace.get(entry.jt!) ?? entry.jt
  entry.jf = entry.jt
  return changed
}

/** `and #k; jeq #0` is `jset #k` with its edges swapped (libpcap does the same). */
function peephole(b: Block): void {
  const last = b.stmts[b.stmts.length - 1]
  if (b.ret === undefined && last && last.code === (BPF.ALU | BPF.AND | BPF.K) && b.jmp.code === (BPF.JMP | BPF.JEQ | BPF.K) && b.jmp.k === 0) {
    b.stmts = b.stmts.slice(0, -1)
    b.jmp = { code: BPF.JMP | BPF.JSET | BPF.K, k: last.k }
    const t = b.jt
    b.jt = b.jf
    b.jf = t
  }
}
