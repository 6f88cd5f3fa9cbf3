/**
 * The optimizer: rewrites the block graph the way libpcap's optimize.c aims to, in passes
 * repeated until nothing changes:
 * - constant folding: a test on a constant goes straight to its outcome;
 * - jump threading: an edge whose facts (the outcomes of earlier tests of the same packet value
 *   on every path to it) decide the next test jumps past it, so `tcp or udp` tests the EtherType
 *   once per path;
 * - dead code: blocks whose two edges agree are skipped, unreachable blocks vanish;
 * - common blocks: identical blocks with identical successors are merged;
 * - pull-up: in a chain of `or`s (or `and`s) that share their exit, a later test of the value
 *   an earlier test just examined moves up next to it, so the value is loaded once for both
 *   (`src port 80 or dst port 80 or src port 443 ...` tests src against 80 and 443 together).
 *   libpcap's optimizer reorders the same way (or_pullup/and_pullup in optimize.c), which also
 *   keeps netkit's verdicts on truncated packets the same as libpcap's.
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
  if (op === BPF.JSET && k === 0) return false // no bit of any value is in an empty mask
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
    // jf first: in the reversed post-order the jt successor then comes right after its block,
    // so the true branch falls through, as in libpcap's layout.
    const succ = top.next === 0 ? top.b.jf : top.next === 1 ? top.b.jt : null
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
    changed = pullUp(entry) || changed
    if (!changed) break
  }
  return entry.jt!
}

/** What a path knows about values: facts (all must hold) and, per key, the finite set of values it can still have. */
interface Knowledge { facts: Map<string, Fact>; sets: Map<string, number[]> }

/** Narrows the possible values of `key` by the outcome of `key op k`. */
function narrow(sets: Map<string, number[]>, key: string, op: number, k: number, outcome: boolean): void {
  const cur = sets.get(key)
  if (op === BPF.JEQ && outcome) { sets.set(key, [k]); return }
  if (cur) sets.set(key, cur.filter((v) => evalTest(op, v, k) === outcome))
}

function thread(entry: Block): boolean {
  let changed = false
  const order = topoOrder(entry)
  const keys = new Map<Block, string | undefined>()
  for (const b of order) keys.set(b, testedKey(b))
  const keyOf = (b: Block): string | undefined => (keys.has(b) ? keys.get(b) : testedKey(b))
  const inKnow = new Map<Block, Knowledge>()
  const addEdge = (to: Block, k: Knowledge): void => {
    const cur = inKnow.get(to)
    if (!cur) { inKnow.set(to, { facts: new Map(k.facts), sets: new Map(k.sets) }); return }
    // Facts that hold on every way in; value sets united (known only if known on every way in).
    for (const id of [...cur.facts.keys()]) if (!k.facts.has(id)) cur.facts.delete(id)
    for (const [key, vals] of [...cur.sets]) {
      const other = k.sets.get(key)
      if (!other) cur.sets.delete(key)
      else cur.sets.set(key, [...new Set([...vals, ...other])])
    }
  }
  for (const b of order) {
    if (b.ret !== undefined) continue
    const know = b === entry ? { facts: new Map<string, Fact>(), sets: new Map<string, number[]>() } : (inKnow.get(b) ?? { facts: new Map<string, Fact>(), sets: new Map<string, number[]>() })
    for (const side of ['jt', 'jf'] as const) {
      const edgeFacts = new Map(know.facts)
      const sets = new Map(know.sets)
      const key = keys.get(b)
      if (b !== entry && key !== undefined) {
        const f = { key, op: bpfOp(b.jmp.code), k: b.jmp.k, outcome: side === 'jt' }
        edgeFacts.set(factId(f), f)
        narrow(sets, key, f.op, f.k, f.outcome)
      }
      let target = b[side]!
      for (let hops = 0; hops < 10000 && target.ret === undefined; hops++) {
        if (target.jt === target.jf) { target = target.jt!; continue }
        const tk = keyOf(target)
        if (tk === undefined) break
        const op = bpfOp(target.jmp.code)
        const d = decide(tk, op, target.jmp.k, [...edgeFacts.values()])
        if (d === undefined) {
          // The value is one of a few known ones: if every one of them leaves the run of tests
          // of this value at the same block, go there directly (`tcp or udp` checked twice).
          const vals = sets.get(tk)
          if (!vals || vals.length === 0 || vals.length > 32) break
          let common: Block | undefined
          let same = true
          for (const v of vals) {
            let t = target
            for (let n = 0; n < 64 && t.ret === undefined && t.jt !== t.jf && keyOf(t) === tk; n++) t = evalTest(bpfOp(t.jmp.code), v, t.jmp.k) ? t.jt! : t.jf!
            if (common === undefined) common = t
            else if (common !== t) { same = false; break }
          }
          if (!same || common === undefined || common === target || (keyOf(common) === tk && common.ret === undefined)) break
          target = common
          continue
        }
        const f = { key: tk, op, k: target.jmp.k, outcome: d }
        edgeFacts.set(factId(f), f)
        narrow(sets, tk, op, f.k, d)
        target = d ? target.jt! : target.jf!
      }
      if (target !== b[side]) { b[side] = target; changed = true }
      const k = { facts: edgeFacts, sets }
      if (b === entry) { b.jf = b.jt; addEdge(target, k); break }
      addEdge(target, k)
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

/** How many edges lead into each block. */
function predecessorCounts(entry: Block): Map<Block, number> {
  const n = new Map<Block, number>()
  for (const b of topoOrder(entry)) {
    if (b.ret !== undefined) continue
    for (const s of b === entry || b.jt === b.jf ? [b.jt!] : [b.jt!, b.jf!]) n.set(s, (n.get(s) ?? 0) + 1)
  }
  return n
}

/**
 * The pull-up pass. Along `side` (jf for a chain of ors, jt for ands), every block of the chain
 * shares the other edge. From block b, skip the run of tests of other values, then find the next
 * test of b's value; move it up right after b. Only blocks with a single way in move or are
 * passed over, so no other path sees the change.
 */
function pullUp(entry: Block): boolean {
  let changed = false
  const keys = new Map<Block, string | undefined>()
  const key = (b: Block): string | undefined => { if (!keys.has(b)) keys.set(b, testedKey(b)); return keys.get(b) }
  for (const side of ['jf', 'jt'] as const) {
    const other = side === 'jf' ? 'jt' : 'jf'
    const preds = predecessorCounts(entry)
    for (const b of topoOrder(entry)) {
      if (b === entry || b.ret !== undefined) continue
      const k = key(b)
      if (k === undefined) continue
      // The first block after b that tests a different value.
      const d = b[side]!
      if (d.ret !== undefined || d[other] !== b[other] || preds.get(d) !== 1 || key(d) === k || key(d) === undefined) continue
      // Then along the chain, the next test of b's value.
      let prev = d
      let s = d[side]!
      while (s.ret === undefined && s[other] === b[other] && preds.get(s) === 1 && key(s) !== k && key(s) !== undefined) { prev = s; s = s[side]! }
      if (s.ret !== undefined || s[other] !== b[other] || preds.get(s) !== 1 || key(s) !== k) continue
      prev[side] = s[side]
      s[side] = d
      b[side] = s
      changed = true
    }
    if (changed) return true
  }
  return changed
}
